"""Build the mmengine config of each self-training stage from the user's config.

Every stage is an ordinary MMPose run: the user's config (inheriting an unmodified mmpose
face config) with the data, initialisation, schedule and head settings of the stage
swapped in. Nothing here knows about a particular model beyond the head's ``shrink_kind``.
"""
import copy
import math
import os.path as osp
from typing import List, Optional, Tuple

from mmengine.config import Config, ConfigDict

from .self_training_plan import Stage

#: loop-unit keys of mmengine parameter schedulers that scale with the schedule
_SCHEDULER_KEYS = ('begin', 'end', 'T_max', 'total_iters')


def resolve_path(data_root: Optional[str], path: str) -> str:
    """``path`` as mmengine's BaseDataset resolves ``ann_file`` (joined to ``data_root``)."""
    if data_root and not osp.isabs(path):
        path = osp.join(data_root, path)
    return osp.abspath(path)


def labeled_dataset(cfg: Config) -> ConfigDict:
    """The config's ``train_dataloader.dataset``: the labeled set."""
    loader = cfg.get('train_dataloader')
    dataset = loader.get('dataset') if loader else None
    if not dataset or 'ann_file' not in dataset or 'pipeline' not in dataset:
        raise ValueError('the self-training runner needs train_dataloader.dataset to be a '
                         'dataset with ann_file (the labeled file) and pipeline, e.g. '
                         'Face300WDataset; dataset wrappers are not supported there')
    return dataset


def eval_loader_and_evaluator(cfg: Config) -> Tuple[Optional[dict], Optional[object]]:
    """The test dataloader/evaluator, falling back to the val ones."""
    if cfg.get('test_dataloader') and cfg.get('test_evaluator'):
        return cfg.test_dataloader, cfg.test_evaluator
    if cfg.get('val_dataloader') and cfg.get('val_evaluator'):
        return cfg.val_dataloader, cfg.val_evaluator
    return None, None


def find_transforms(pipeline: List[dict], type_name: str) -> List[int]:
    """Indices of the transforms of type ``type_name`` (``mmpose.`` scope allowed)."""
    return [i for i, t in enumerate(pipeline)
            if str(t.get('type', '')).split('.')[-1] == type_name]


def target_sigma(pipeline: List[dict]) -> float:
    """sigma of the heatmap encoder of the (single) ``GenerateTarget`` of ``pipeline``."""
    idx = find_transforms(pipeline, 'GenerateTarget')
    if len(idx) != 1:
        raise ValueError(f'heatmap shrink regression needs exactly one GenerateTarget in the '
                         f'train pipeline, found {len(idx)}')
    encoder = pipeline[idx[0]].get('encoder')
    if not isinstance(encoder, dict) or 'sigma' not in encoder:
        raise ValueError('heatmap shrink regression needs a GenerateTarget encoder with a '
                         f'"sigma" (e.g. MSRAHeatmap); got {encoder}')
    return float(encoder['sigma'])


def with_target_sigma(pipeline: List[dict], sigma: float) -> List[dict]:
    """A copy of ``pipeline`` whose heatmap targets use ``sigma``."""
    pipeline = copy.deepcopy(list(pipeline))
    target_sigma(pipeline)  # validates
    idx = find_transforms(pipeline, 'GenerateTarget')[0]
    pipeline[idx]['encoder'] = dict(pipeline[idx]['encoder'], sigma=float(sigma))
    return pipeline


def sanitize_loader(loader: dict) -> dict:
    """A DataLoader config that torch accepts (no persistent workers without workers)."""
    loader = copy.deepcopy(loader)
    if not loader.get('num_workers', 0):
        loader['persistent_workers'] = False
    return loader


def _loop_unit(train_cfg: dict) -> str:
    loop_type = str(train_cfg.get('type', ''))
    if 'IterBased' in loop_type:
        return 'iter'
    if 'EpochBased' in loop_type:
        return 'epoch'
    return 'epoch' if train_cfg.get('by_epoch', True) else 'iter'


def scale_schedule(cfg: Config, scale: float) -> None:
    """Scale the training length and the schedulers counted in the loop's unit (in place).

    The "speed up" of STLD: ``max_epochs`` (or ``max_iters``) and the scheduler boundaries
    and milestones in the same unit are multiplied by ``scale`` (rounded, at least 1);
    schedulers in the other unit (an iteration warm-up in an epoch loop) are kept.
    """
    if scale == 1.0:
        return
    train_cfg = cfg.train_cfg
    unit = _loop_unit(train_cfg)
    key = 'max_epochs' if unit == 'epoch' else 'max_iters'
    if key not in train_cfg:
        raise ValueError(f'cannot scale the schedule: train_cfg has no {key}')
    new_max = max(1, int(round(train_cfg[key] * scale)))
    train_cfg[key] = new_max
    if 'val_interval' in train_cfg:
        train_cfg['val_interval'] = max(1, min(train_cfg['val_interval'], new_max))
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    for sched in schedulers:
        if (unit == 'epoch') != bool(sched.get('by_epoch', True)):
            continue
        for k in _SCHEDULER_KEYS:
            if k in sched and sched[k] is not None and sched[k] < math.inf:
                sched[k] = min(new_max, max(1, int(round(sched[k] * scale)))) \
                    if sched[k] > 0 else 0
        if 'milestones' in sched:
            sched['milestones'] = [max(1, int(round(m * scale))) for m in sched['milestones']]


def oversampled(dataset: dict, num_samples: int, min_size: int) -> dict:
    """``RepeatDataset`` bringing ``dataset`` to at least ``min_size`` samples."""
    if min_size <= 0 or num_samples <= 0 or num_samples >= min_size:
        return dataset
    return dict(type='RepeatDataset', times=int(math.ceil(min_size / num_samples)),
                dataset=dataset)


def pseudo_dataset(labeled: dict, unlabeled: dict, pseudo_file: str,
                   source_aware: bool = False, sigma: Optional[float] = None) -> dict:
    """The labeled set's dataset config over a pseudo-label file.

    Images are found where the unlabeled set finds them (its ``data_root``/``data_prefix``);
    with ``source_aware`` the samples are tagged pseudo (``STLDSetSource``) and, for heatmap
    heads, their targets use ``sigma``.
    """
    dataset = copy.deepcopy(labeled)
    dataset['ann_file'] = osp.abspath(pseudo_file)
    for key in ('data_root', 'data_prefix'):
        if key in unlabeled:
            dataset[key] = copy.deepcopy(unlabeled[key])
    pipeline = list(copy.deepcopy(dataset['pipeline']))
    if sigma is not None:
        pipeline = with_target_sigma(pipeline, sigma)
    if source_aware:
        pipeline.append(dict(type='STLDSetSource', source='pseudo'))
    dataset['pipeline'] = pipeline
    return dataset


def base_stage_cfg(cfg: Config, stage: Stage, stage_dir: str, run_id: str) -> Config:
    """The user's config minus the runner settings, pointed at the stage's folder."""
    out = copy.deepcopy(cfg)
    for key in ('runner_type', 'self_training'):
        out.pop(key, None)
    out.work_dir = stage_dir
    out.experiment_name = f'{stage.name}_{run_id}'
    out.resume = False
    out.load_from = None
    return out


def drop_training(cfg: Config) -> None:
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper', 'param_scheduler',
                'val_dataloader', 'val_cfg', 'val_evaluator'):
        cfg[key] = None


def drop_validation(cfg: Config) -> None:
    """No in-stage validation: the runner evaluates each round in its own stage."""
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    ckpt = (cfg.get('default_hooks') or {}).get('checkpoint')
    if ckpt is not None and ckpt.get('save_best'):
        ckpt['save_best'] = None
