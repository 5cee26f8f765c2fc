"""The as-shipped config harness: run a model-zoo config as a user would, only smaller.

A config is loaded as a user loads it (``Config.fromfile``, ``mmpose::``/``mmdet::`` bases,
``custom_imports``) and keeps its own train loop type, validation interval, parameter
schedulers (warm-ups, milestones, ``ReduceOnPlateauLR`` monitors), checkpoint hook
(``save_best``, ``rule``, interval, ``save_last``), evaluators, custom hooks, model wrapper and
runner type. :data:`ALLOWED_CHANGES` is the one list of what the harness may change; every
edit below (and in the per-folder ``tests/test_<folder>/smoke_overrides.py``) is one of them.
"""
import importlib.util
import json
import os.path as osp
import re
from pathlib import Path
from typing import Dict, List, Optional

from mmengine.config import Config

from mmssl.utils import walk_config as walk
from mmssl_testing import FIXTURES, REPO_ROOT

CONFIG_ROOT = REPO_ROOT / 'configs'

#: What the harness may change, and nothing else (issue "Model zoo as shipped").
ALLOWED_CHANGES = (
    'data: dataset/evaluator paths point at ../shared/fixtures or generated synthetic data '
    '(data_root, ann_file, data_prefix, bbox_file, headbox_file, metainfo files, outfile '
    'prefixes), a few samples per dataset (indices)',
    'init_cfg: pretrained downloads are dropped (random initialisation); a Pretrained '
    'checkpoint under work_dirs/<config>/ is the one that config wrote in this session',
    'loaders: num_workers=0, no persistent workers',
    'batch sizes that do not fit a fixture (the sampler ratio is kept)',
    'model width / depth of the same module types and input/heatmap resolution',
    'schedule length: max_epochs=1 or a few iterations; the warm-up/refresh periods of '
    'method hooks scaled to it; fewer self-training rounds and stages (no per-round '
    'evaluation, no relabelling after the last round, no labeled oversampling)',
    'load_from: the checkpoint the referenced earlier stage wrote in this session, else none',
    'run-time only: work_dir, a fixed seed, logging interval, local visualizer backend, '
    'config text logged and dumped without the yapf re-wrapping (tests/conftest.py)',
)

# dataset type -> (annotation file, image prefix) inside the fixtures folder
FIXTURE_DATA = {
    'CocoDataset': ('coco/test_coco.json', 'coco/'),
    'UnlabeledTopDownDataset': ('coco/test_coco.json', 'coco/'),
    'MpiiDataset': ('mpii/test_mpii.json', 'mpii/'),
    'Face300WDataset': ('300w/test_300w.json', '300w/'),
    'WFLWDataset': ('wflw/test_wflw.json', 'wflw/'),
}
DETECTIONS = 'coco/test_coco_det_AP_H_56.json'
TRAIN_SAMPLES = 4  # samples per training dataset: an epoch is a couple of iterations
EVAL_SAMPLES = 4
SHORT_ITERS = 2


def type_name(node: dict) -> str:
    return str(node.get('type', '')).split('.')[-1]


def write_mpii_headboxes(tmp_dir: Path) -> str:
    """A head-box ``.mat`` for the MPII fixture (mmpose reads ``headboxes_src``, 2 x 2 x N):
    the box of the upper neck (joint 8) and head top (joint 9), as MPII's head boxes span."""
    import numpy as np
    from scipy.io import savemat
    out = tmp_dir / 'mpii_fixture_headboxes.mat'
    if not out.exists():
        anns = json.loads((FIXTURES / 'mpii/test_mpii.json').read_text())
        boxes = np.zeros((2, 2, len(anns)))
        for i, ann in enumerate(anns):
            neck, top = np.array(ann['joints'][8]), np.array(ann['joints'][9])
            half = max(np.linalg.norm(top - neck), 1.) / 2
            centre = (neck + top) / 2
            boxes[:, :, i] = [centre - half, centre + half]  # [[x1, y1], [x2, y2]]
        savemat(str(out), {'headboxes_src': boxes})
    return str(out)


def _point_dataset_at_fixtures(ds: dict, tmp_dir: Path, train: bool) -> None:
    ds_type = type_name(ds)
    if ds_type not in FIXTURE_DATA:
        return
    ann, prefix = FIXTURE_DATA[ds_type]
    ds['data_root'] = str(FIXTURES) + '/'
    ds['ann_file'] = ann
    if 'data_prefix' in ds:
        key = 'img_path' if 'img_path' in ds['data_prefix'] else 'img'
        ds['data_prefix'] = {key: prefix}
    if ds.get('bbox_file'):  # detector boxes: the fixture's for unlabeled data, GT for val
        ds['bbox_file'] = (str(FIXTURES / DETECTIONS)
                           if ds_type == 'UnlabeledTopDownDataset' else None)
    if ds_type == 'MpiiDataset' and ds.get('headbox_file'):
        ds['headbox_file'] = write_mpii_headboxes(tmp_dir)
    ds['indices'] = TRAIN_SAMPLES if train else EVAL_SAMPLES


def _fix_metric(metric: dict, tmp_dir: Path) -> None:
    if type_name(metric) == 'CocoMetric' and 'ann_file' in metric:
        metric['ann_file'] = str(FIXTURES / 'coco/test_coco.json')
    if metric.get('outfile_prefix'):
        metric['outfile_prefix'] = str(tmp_dir / 'results')


def _no_pretrained(node: dict) -> None:
    """Drop pretrained downloads; a checkpoint an earlier config of the zoo writes (e.g. the
    two supervised networks a PoseDual config starts from) becomes this session's one."""
    init = node.get('init_cfg')
    if isinstance(init, dict) and init.get('type') == 'Pretrained':
        chained = chained_load_from(init.get('checkpoint'))
        node['init_cfg'] = dict(init, checkpoint=chained) if chained else None
    if node.get('pretrained') and isinstance(node['pretrained'], str):
        node['pretrained'] = None


AFFINE_TRANSFORMS = ('TopdownAffine', 'TopdownAffineWithMatrix')
#: codecs with an input size and no heatmap (SimCC bins and regression labels follow it)
COORDINATE_CODECS = ('SimCCLabel', 'RegressionLabel')


def _smaller(size: int) -> int:
    """About half of ``size``, kept a multiple of 32 (every backbone stride stays integral)."""
    return 32 * max(2, round(size / 64))


def _half_resolution(node: dict) -> None:
    """Shrink top-down input and heatmap sizes (codecs, affine transforms and the input /
    feature-map sizes of SimCC heads) about 2x (256x192 -> 128x96, 384x288 -> 192x128); the
    architecture is unchanged."""
    if 'input_size' in node and 'heatmap_size' in node:
        stride = [i / h for i, h in zip(node['input_size'], node['heatmap_size'])]
        node['input_size'] = tuple(_smaller(int(v)) for v in node['input_size'])
        node['heatmap_size'] = tuple(int(i / s) for i, s in zip(node['input_size'], stride))
        if 'sigma' in node and isinstance(node['sigma'], (int, float)):
            node['sigma'] = max(1., node['sigma'] / 2)
    elif type_name(node) in AFFINE_TRANSFORMS and 'input_size' in node:
        node['input_size'] = tuple(_smaller(int(v)) for v in node['input_size'])
    elif type_name(node) in COORDINATE_CODECS and 'input_size' in node:
        node['input_size'] = tuple(_smaller(int(v)) for v in node['input_size'])
    elif 'input_size' in node and 'in_featuremap_size' in node:  # RTMCCHead and its kind
        stride = [i / f for i, f in zip(node['input_size'], node['in_featuremap_size'])]
        node['input_size'] = tuple(_smaller(int(v)) for v in node['input_size'])
        node['in_featuremap_size'] = tuple(int(i / s) for i, s in zip(node['input_size'],
                                                                       stride))


def _narrow_pose_model(node: dict) -> None:
    """A 4x narrower ResNet-50+/HRNet in a top-down pose model (same depth and module types,
    the head's input channels follow), so the zoo's big backbones train in seconds."""
    backbone, head = node.get('backbone'), node.get('head')
    if not isinstance(backbone, dict) or not isinstance(head, dict):
        return
    kind = type_name(backbone)
    if kind == 'ResNet' and backbone.get('depth', 18) >= 50:
        old_out = 64 * 8 * 4
        backbone.update(base_channels=16, stem_channels=16)
        if head.get('in_channels') == old_out:
            head['in_channels'] = old_out // 4
    elif kind == 'HRNet':
        extra = backbone['extra']
        first = extra['stage4']['num_channels'][0]
        for stage in ('stage2', 'stage3', 'stage4'):
            extra[stage]['num_channels'] = tuple(c // 4 for c in extra[stage]['num_channels'])
        if head.get('in_channels') == first:
            head['in_channels'] = first // 4


def _small_loader(loader: dict, batch_size: int) -> None:
    loader['num_workers'] = 0
    loader['persistent_workers'] = False
    loader['batch_size'] = batch_size
    sampler = loader.get('sampler') or {}
    if 'batch_size' in sampler:
        sampler['batch_size'] = batch_size


def short_schedule(cfg: Config) -> None:
    """One epoch, or :data:`SHORT_ITERS` iterations; the loop type, ``val_interval`` and the
    schedulers stay (mmengine validates after the last epoch/iteration of a loop)."""
    train_cfg = cfg.get('train_cfg')
    if not train_cfg:
        return
    if 'max_iters' in train_cfg or train_cfg.get('type') == 'IterBasedTrainLoop':
        train_cfg['max_iters'] = min(int(train_cfg.get('max_iters', SHORT_ITERS)), SHORT_ITERS)
    else:
        train_cfg['max_epochs'] = 1


def config_name(rel_path: str) -> str:
    return osp.splitext(osp.basename(rel_path))[0]


#: config name -> work_dir of its as-shipped run in this session (for chained ``load_from``)
SESSION_WORK_DIRS: Dict[str, Path] = {}


def chained_load_from(load_from: Optional[str]) -> Optional[str]:
    """The checkpoint a ``work_dirs/<config>/<file>.pth`` reference means in this session."""
    if not load_from:
        return None
    match = re.match(r'^(?:\./)?work_dirs/([^/]+)/[^/]+\.pth$', str(load_from))
    if not match or match.group(1) not in SESSION_WORK_DIRS:
        return None
    work_dir = SESSION_WORK_DIRS[match.group(1)]
    last = work_dir / 'last_checkpoint'
    return last.read_text().strip() if last.is_file() else None


def apply_folder_overrides(rel_path: str, cfg: Config, tmp_dir: Path) -> None:
    folder = Path(rel_path).parts[0]
    hook = REPO_ROOT / 'tests' / f'test_{folder}' / 'smoke_overrides.py'
    if hook.is_file():
        spec = importlib.util.spec_from_file_location(f'smoke_overrides_{folder}', hook)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.smoke_overrides(cfg, tmp_dir)


def smoke_config(rel_path: str, tmp_dir: Path) -> Config:
    """``configs/<rel_path>`` with only the :data:`ALLOWED_CHANGES` applied."""
    tmp_dir = Path(tmp_dir)
    cfg = Config.fromfile(str(CONFIG_ROOT / rel_path))
    cfg.work_dir = str(tmp_dir)
    cfg.load_from = chained_load_from(cfg.get('load_from'))
    cfg.resume = False
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(key):
            train = key == 'train_dataloader'
            walk(cfg[key], lambda d, t=train: _point_dataset_at_fixtures(d, tmp_dir, t))
    for key in ('val_evaluator', 'test_evaluator'):
        if cfg.get(key):
            walk(cfg[key], lambda m: _fix_metric(m, tmp_dir))
    walk(cfg.model, _no_pretrained)
    if str(cfg.get('default_scope')) == 'mmpose':
        nodes = {}  # by id: a dict shared by several places is halved once
        for key in ('model', 'train_dataloader', 'val_dataloader', 'test_dataloader'):
            if cfg.get(key):
                walk(cfg[key], lambda d: nodes.setdefault(id(d), d))
        for node in nodes.values():
            _half_resolution(node)
            _narrow_pose_model(node)
    train_bs = cfg.train_dataloader.get('batch_size', 2)
    ratio = (cfg.train_dataloader.get('sampler') or {}).get('source_ratio')
    _small_loader(cfg.train_dataloader, int(sum(ratio)) if ratio else min(train_bs, 2))
    for key in ('val_dataloader', 'test_dataloader'):
        if cfg.get(key):
            _small_loader(cfg[key], 4)
    short_schedule(cfg)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    cfg.randomness = dict(seed=0)
    apply_folder_overrides(rel_path, cfg, tmp_dir)
    return cfg


WORK_DIR_REFERENCE = re.compile(r'work_dirs/([^/\'"]+)/')


def list_configs() -> List[str]:
    """Every config, sorted by path, except that a config referring to another one's
    ``work_dirs/<name>/`` checkpoint (``load_from``, ``init_cfg``) comes after it."""
    paths = sorted(str(p.relative_to(CONFIG_ROOT)) for p in CONFIG_ROOT.rglob('*.py')
                   if '_base_' not in p.parts)
    by_name = {config_name(p): p for p in paths}
    needs = {p: [by_name[n] for n in WORK_DIR_REFERENCE.findall((CONFIG_ROOT / p).read_text())
                 if n in by_name and by_name[n] != p] for p in paths}
    ordered: List[str] = []

    def visit(path: str, stack: tuple = ()) -> None:
        if path in ordered:
            return
        if path in stack:
            raise ValueError(f'configs refer to each other\'s checkpoints in a cycle: {stack}')
        for dep in needs[path]:
            visit(dep, stack + (path, ))
        ordered.append(path)

    for path in paths:
        visit(path)
    return ordered
