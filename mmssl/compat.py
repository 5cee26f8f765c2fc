"""Version checks and torch >= 2.6 safe checkpoint loading.

torch >= 2.6 loads checkpoints with ``weights_only=True`` by default, and mmengine 0.10.7 calls
``torch.load`` without the argument, so resuming (and ``load_from`` a Runner checkpoint) fails
on the non-tensor objects an mmengine checkpoint holds. We keep ``weights_only=True`` (turning
it off would let a checkpoint execute code) and allowlist exactly what mmengine pickles:

* numpy arrays, dtypes and scalars (``dataset_meta``, logged values);
* ``mmengine.logging.HistoryBuffer`` (the MessageHub's scalar buffers);
* ``builtins.getattr``: ``HistoryBuffer.__getstate__`` stores its statistics methods, which
  pickle as ``getattr(HistoryBuffer, 'mean')``. Allowlisting the real ``getattr`` would reopen
  arbitrary code execution, so the name is mapped to :func:`history_buffer_getattr`, which only
  returns the statistics methods of the HistoryBuffer class and refuses everything else.
"""
import importlib.metadata
from typing import Any, Callable, List, Tuple, Union

# package: (minimum inclusive, maximum exclusive)
SUPPORTED_VERSIONS = {
    'torch': ('1.13.0', '2.14.0'),
    'mmcv': ('2.0.0', '2.2.0'),
    'mmengine': ('0.10.0', '1.0.0'),
    'mmdet': ('3.0.0', '3.4.0'),
    'mmpose': ('1.1.0', '1.4.0'),
}


def _installed_version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        module = __import__(package)
        return module.__version__


def check_versions() -> None:
    """Raise ``ImportError`` naming the package and the supported range when one is off.

    Checked before mmdet is imported, so a wrong mmcv gets this message instead of mmdet's.
    """
    from mmengine.utils import digit_version
    problems = []
    for package, (low, high) in SUPPORTED_VERSIONS.items():
        try:
            version = _installed_version(package)
        except ImportError:
            problems.append(f'{package} is not installed (mmssl needs {low} <= version < '
                            f'{high})')
            continue
        if not digit_version(low) <= digit_version(version) < digit_version(high):
            problems.append(f'{package}=={version} is installed but mmssl supports '
                            f'{low} <= version < {high}')
    if problems:
        raise ImportError('mmssl: unsupported environment:\n  - ' + '\n  - '.join(problems) +
                          '\nRun `bash tools/setup_env.sh` from the mmssl repository to '
                          'build the verified stack in .venv/.')


def history_buffer_getattr(obj: Any, name: str) -> Callable:
    """Restricted stand-in for ``builtins.getattr`` used while unpickling checkpoints.

    Only resolves a statistics method of mmengine's ``HistoryBuffer`` class (how its
    ``statistics_methods`` state is pickled); any other use raises, so allowlisting it does
    not give a checkpoint a way to reach arbitrary attributes.
    """
    from mmengine.logging import HistoryBuffer
    if obj is HistoryBuffer and name in ('min', 'max', 'mean', 'current'):
        return getattr(obj, name)
    raise RuntimeError(f'checkpoint asks for getattr({type(obj).__name__}, {name!r}); only '
                       'HistoryBuffer statistics methods are allowed when loading with '
                       'weights_only=True')


def safe_checkpoint_globals() -> List[Union[Callable, Tuple[Callable, str]]]:
    """Everything an mmengine Runner checkpoint pickles besides tensors."""
    import numpy as np
    from mmengine.logging import HistoryBuffer
    multiarray = np.core.multiarray
    safe: List[Union[Callable, Tuple[Callable, str]]] = [
        multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype, HistoryBuffer,
        (history_buffer_getattr, 'builtins.getattr'),
        bytes,  # an empty numpy array (e.g. H36M metainfo sigmas=[]) pickles as bytes()
    ]
    dtypes = getattr(np, 'dtypes', None)  # numpy >= 1.25 pickles the dtype classes
    if dtypes is not None:
        safe += [getattr(dtypes, n) for n in dir(dtypes) if n.endswith('DType')]
    safe += [type(np.dtype(t)) for t in set(np.sctypeDict.values())]
    safe += [t for t in set(np.sctypeDict.values())]  # scalar types, e.g. np.float64
    return safe


def install_safe_checkpoint_loading() -> None:
    """Allowlist mmengine checkpoint contents for ``torch.load(weights_only=True)``."""
    import torch
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is None:  # torch < 2.4 does not default to weights_only; nothing to do
        return
    add(safe_checkpoint_globals())
