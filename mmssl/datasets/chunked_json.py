"""Atomic JSON writing of large annotation dicts, list values encoded in chunks.

``json.dumps`` of a whole LVIS / Objects365 split builds the full text (gigabytes) in memory,
and ``json.dump`` to a file falls back to the pure-Python encoder (several times slower).
:func:`atomic_json_dump_chunked` encodes each top-level list ``chunk_size`` items at a time
with the C encoder and streams the pieces into :func:`mmssl.utils.atomic_files.atomic_write`
(temp file + rename), so memory stays at one chunk's text and the bytes equal those of
``json.dumps(obj)``.
"""
import json
from typing import BinaryIO, Mapping

from mmssl.utils.atomic_files import atomic_write


def _write_chunked(obj: Mapping, f: BinaryIO, chunk_size: int) -> None:
    f.write(b'{')
    for k, (key, value) in enumerate(obj.items()):
        if k:
            f.write(b', ')
        f.write(json.dumps(key).encode() + b': ')
        if isinstance(value, list) and len(value) > chunk_size:
            f.write(b'[')
            for start in range(0, len(value), chunk_size):
                if start:
                    f.write(b', ')
                f.write(json.dumps(value[start:start + chunk_size])[1:-1].encode())
            f.write(b']')
        else:
            f.write(json.dumps(value).encode())
    f.write(b'}')


def atomic_json_dump_chunked(obj: Mapping, path: str, chunk_size: int = 50000) -> str:
    """Write the dict ``obj`` as JSON to ``path`` atomically, lists in chunks.

    Args:
        obj (Mapping): A JSON-serialisable dict (e.g. a COCO annotation dict).
        path (str): Target file.
        chunk_size (int): Items of a top-level list encoded at once. Defaults to 50000.

    Returns:
        str: ``path``.
    """
    if not isinstance(obj, Mapping):
        raise TypeError(f'atomic_json_dump_chunked writes a dict, got {type(obj).__name__}')
    if chunk_size < 1:
        raise ValueError(f'chunk_size must be >= 1, got {chunk_size}')
    return atomic_write(path, lambda f: _write_chunked(obj, f, chunk_size))
