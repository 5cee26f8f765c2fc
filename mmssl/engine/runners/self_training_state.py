"""Resumable state of a self-training job and atomic file writing.

``<work_dir>/self_training_state.json`` records every completed stage (its spec, outputs and
measurements). A stage is recorded only after all its outputs are on disk, and every file is
written to a temporary name and renamed, so a job killed at any moment leaves either the
previous complete file or the new complete one, never a partial one
(:mod:`mmssl.utils.atomic_files`).
"""
import json
import os.path as osp
from typing import Any, Dict

from mmssl.utils.atomic_files import atomic_json_dump, atomic_torch_save

__all__ = ['STATE_FILE', 'SelfTrainingState', 'atomic_json_dump', 'atomic_torch_save']

STATE_FILE = 'self_training_state.json'
STATE_VERSION = 1


class SelfTrainingState:
    """The state file of a self-training job (read and written by rank 0).

    Args:
        work_dir (str): The job's work_dir.
    """

    def __init__(self, work_dir: str) -> None:
        self.path = osp.join(work_dir, STATE_FILE)
        self.data: Dict[str, Any] = dict(version=STATE_VERSION, completed={})

    def load(self) -> 'SelfTrainingState':
        """Read the file when it exists (a fresh job otherwise)."""
        if osp.exists(self.path):
            try:
                with open(self.path) as f:
                    data = json.load(f)
            except (OSError, ValueError) as e:
                raise RuntimeError(f'cannot read the self-training state file {self.path}: '
                                   f'{e}. Delete it to restart the job from scratch.') from e
            if data.get('version') != STATE_VERSION or 'completed' not in data:
                raise RuntimeError(f'{self.path} is not a version-{STATE_VERSION} '
                                   'self-training state file')
            self.data = data
        return self

    def save(self) -> None:
        atomic_json_dump(self.data, self.path, indent=1)

    @property
    def completed(self) -> Dict[str, dict]:
        return self.data['completed']

    def is_done(self, name: str) -> bool:
        return name in self.completed

    def record(self, name: str, record: dict) -> None:
        """Mark stage ``name`` complete with ``record`` and write the file."""
        self.completed[name] = record
        self.save()
