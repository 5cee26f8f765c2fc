"""Atomic file writing: write to a temporary file in the target folder, then rename.

A job killed at any moment leaves either the previous complete file or the new complete one,
never a partial one (``os.replace`` is atomic within a file system). Used for split files,
pseudo-label files, the self-training state file and stage weights.
"""
import json
import os
import os.path as osp
import tempfile
from typing import Any, Callable, Optional


def atomic_write(path: str, write_fn: Callable) -> str:
    """Write through ``write_fn(binary_file_object)`` into a temp file, then ``os.replace``.

    Returns:
        str: ``path``.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{osp.basename(path)}.', suffix='.tmp', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            write_fn(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    return path


def atomic_json_dump(obj: Any, path: str, indent: Optional[int] = None) -> str:
    """``json.dump`` to ``path`` atomically; returns ``path``."""
    data = json.dumps(obj, indent=indent).encode()
    return atomic_write(path, lambda f: f.write(data))


def atomic_torch_save(obj: Any, path: str) -> str:
    """``torch.save`` to ``path`` atomically; returns ``path``."""
    import torch
    return atomic_write(path, lambda f: torch.save(obj, f))
