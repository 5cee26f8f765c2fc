import io
import pickle
import subprocess
import sys

import pytest
import torch

import mmssl  # noqa: F401
from mmssl.compat import check_versions, history_buffer_getattr


def test_importing_mmssl_overrides_no_registry_entry(repo_root):
    """Snapshot every entry of every mmengine/mmpose/mmdet registry (after importing all
    their locations), import mmssl, and check each entry still maps to the same object."""
    code = r'''
import importlib, inspect
import mmengine.registry as me, mmpose.registry as mp, mmdet.registry as md
regs = {}
for mod in (me, mp, md):
    for name, reg in inspect.getmembers(mod):
        if type(reg).__name__ == 'Registry':
            reg.import_from_location()
            regs[(mod.__name__, name)] = reg
import mmpose.models, mmpose.datasets, mmpose.evaluation, mmpose.engine, mmpose.codecs
import mmdet.models, mmdet.datasets, mmdet.evaluation, mmdet.engine
before = {k: dict(r._module_dict) for k, r in regs.items()}
import mmssl
changed, added = [], []
for k, r in regs.items():
    for name, obj in before[k].items():
        if r._module_dict.get(name) is not obj:
            changed.append(f'{k[0]}.{k[1]}:{name}')
    added += [f'{k[1]}:{n}' for n in r._module_dict if n not in before[k]]
print('CHANGED', changed)
print('ADDED', len(added), sorted(added))
'''
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         cwd=repo_root, check=True).stdout
    assert 'CHANGED []' in out, out
    assert "'DATA_SAMPLERS:MixedRatioSampler'" in out
    assert "'DATASETS:UnlabeledTopDownDataset'" in out


def test_version_check_names_package_and_range(monkeypatch):
    import mmssl.compat as compat
    check_versions()  # the installed stack is supported
    monkeypatch.setitem(compat.SUPPORTED_VERSIONS, 'mmcv', ('2.2.0', '3.0.0'))
    with pytest.raises(ImportError, match=r'mmcv==2\.1\.0 is installed but mmssl supports '
                       r'2\.2\.0 <= version < 3\.0\.0'):
        check_versions()


def test_runner_checkpoint_loads_with_weights_only(tiny_pose_cfg):
    """A real Runner checkpoint (numpy metainfo + MessageHub HistoryBuffers) loads with
    torch's weights_only=True after importing mmssl."""
    from mmengine.runner import Runner
    tiny_pose_cfg.train_cfg.max_iters = 2
    runner = Runner.from_cfg(tiny_pose_cfg)
    runner.train()
    ckpt = torch.load(f'{tiny_pose_cfg.work_dir}/iter_2.pth', weights_only=True)
    assert ckpt['meta']['iter'] == 2
    hub = ckpt['message_hub']['log_scalars']
    assert hub['train/loss'].mean() > 0


class _Evil:

    def __reduce__(self):
        return (getattr, ('text', 'upper'))


def test_getattr_stand_in_refuses_anything_but_history_buffer():
    from mmengine.logging import HistoryBuffer
    assert history_buffer_getattr(HistoryBuffer, 'mean') is HistoryBuffer.mean
    with pytest.raises(RuntimeError, match='only HistoryBuffer statistics'):
        history_buffer_getattr(sys, 'exit')
    buf = io.BytesIO()
    torch.save({'x': _Evil()}, buf)
    buf.seek(0)
    with pytest.raises((pickle.UnpicklingError, RuntimeError), match='getattr'):
        torch.load(buf, weights_only=True)


def test_empty_numpy_arrays_load_after_a_self_training_job(tmp_path):
    """Checkpoints holding empty numpy arrays (face datasets' empty skeleton colours) load
    with weights_only=True, also after a self-training stage resumed inside the process (a
    scoped torch.serialization.safe_globals([bytes]) used to drop mmssl's global allowance
    of bytes on exit)."""
    import numpy as np
    from mmssl.compat import install_safe_checkpoint_loading
    install_safe_checkpoint_loading()
    path = tmp_path / 'meta.pth'
    torch.save({'skeleton_link_colors': np.zeros((0, 3))}, path)
    assert torch.load(path, weights_only=True)['skeleton_link_colors'].shape == (0, 3)
    assert bytes in torch.serialization.get_safe_globals()
