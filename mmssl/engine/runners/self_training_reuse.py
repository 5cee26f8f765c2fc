"""Reuse of another self-training job's completed stages (``self_training.reuse_stages_from``).

Arms of a study that differ only in the last rounds (e.g. the paper-vs-release switches)
train the common rounds once: a fresh job adopts the completed stages of the job in another
work_dir whose spec is its own and whose inputs were adopted too. The two configs may differ
at most in the settings the stage specs record (``SPEC_ONLY_SETTINGS``), which the
``reuse_digest`` of the other job's state file proves.
"""
import copy
import os.path as osp
from typing import List, Sequence

from .self_training_checks import SPEC_ONLY_SETTINGS
from .self_training_plan import Stage, spec_matches
from .self_training_state import STATE_FILE, SelfTrainingState


def adopt_completed_stages(state: SelfTrainingState, work_dir: str, other_dir: str,
                           stages: Sequence[Stage], reuse_digest: str) -> List[str]:
    """Copy into ``state`` the records of ``other_dir``'s completed stages that this job
    (``work_dir``, plan ``stages``, config digest ``reuse_digest``) would run identically;
    the state file is written at once. Returns the adopted stage names.

    Raises:
        FileNotFoundError: when ``other_dir`` holds no state file of another job.
        ValueError: when that job's config differs beyond the spec-recorded settings.
    """
    other_dir = osp.abspath(other_dir)
    other = SelfTrainingState(other_dir)
    if other_dir == work_dir or not osp.isfile(other.path):
        raise FileNotFoundError(
            f'self_training.reuse_stages_from={other_dir}: no {STATE_FILE} of another '
            'self-training job there (run that job first)')
    other.load()
    if other.data.get('reuse_digest') != reuse_digest:
        raise ValueError(
            f'self_training.reuse_stages_from={other_dir}: that job\'s config differs from '
            f'this one beyond the settings the stage specs record {SPEC_ONLY_SETTINGS} '
            '(e.g. seed, data, model, schedule, labeled_min_size), or it was written '
            'before reuse existed; its stages cannot be reused')
    adopted: List[str] = []
    for stage in stages:
        record = other.completed.get(stage.name)
        if (record is not None and spec_matches(stage, record.get('spec'))
                and all(name in adopted for name in stage.inputs())):
            state.completed[stage.name] = dict(
                copy.deepcopy(record), spec=stage.spec(),
                reused_from=record.get('reused_from', other_dir))
            adopted.append(stage.name)
    if adopted:
        state.save()
    return adopted
