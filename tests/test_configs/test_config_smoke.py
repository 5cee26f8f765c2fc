"""Config smoke harness: every config under configs/ loads, builds and trains 2 iterations.

Each config is loaded as a user would (``Config.fromfile``, ``mmpose::``/``mmdet::`` bases,
``custom_imports``), then only what cannot run here is changed: data paths point at the real
fixtures (or the synthetic data), pretrained weights are not downloaded, workers and batch
sizes are small, and the train loop runs 2 iterations. Model, pipelines, samplers, hooks and
evaluators stay the config's own; after training, one validation pass runs the evaluator.

Configs that differ only in data files or schedules (same model and pipeline structure, e.g.
the COCO 1K/5K/10K variants) train once per structure; the others build their model,
datasets (one batch is loaded) and evaluators. A config folder may provide ``tests/test_<folder>/smoke_overrides.py`` with
``smoke_overrides(cfg, tmp_dir)`` for what the generic mapping does not know (e.g. a
self-training runner whose stages must each be tiny); it is applied after the generic edits.
"""
import importlib.util
import os.path as osp
from pathlib import Path

import pytest
from mmengine.config import Config, ConfigDict

from mmssl_testing import FIXTURES, REPO_ROOT

CONFIG_ROOT = REPO_ROOT / 'configs'
CONFIGS = sorted(
    str(p.relative_to(CONFIG_ROOT)) for p in CONFIG_ROOT.rglob('*.py')
    if '_base_' not in p.parts)

# dataset type -> (annotation file, image prefix) inside the fixtures folder
FIXTURE_DATA = {
    'CocoDataset': ('coco/test_coco.json', 'coco/'),
    'UnlabeledTopDownDataset': ('coco/test_coco.json', 'coco/'),
    'MpiiDataset': ('mpii/test_mpii.json', 'mpii/'),
    'Face300WDataset': ('300w/test_300w.json', '300w/'),
    'WFLWDataset': ('wflw/test_wflw.json', 'wflw/'),
}
DETECTIONS = 'coco/test_coco_det_AP_H_56.json'


def _walk(node, fn):
    """Apply ``fn`` to every dict in a config tree (depth first)."""
    if isinstance(node, dict):
        fn(node)
        for value in node.values():
            _walk(value, fn)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _walk(value, fn)


def _point_dataset_at_fixtures(ds: dict) -> None:
    ds_type = str(ds.get('type', '')).split('.')[-1]
    if ds_type not in FIXTURE_DATA:
        return
    ann, prefix = FIXTURE_DATA[ds_type]
    ds['data_root'] = str(FIXTURES) + '/'
    ds['ann_file'] = ann
    if 'data_prefix' in ds:
        key = 'img_path' if 'img_path' in ds['data_prefix'] else 'img'
        ds['data_prefix'] = {key: prefix}
    if ds.get('bbox_file'):  # detector boxes: the fixture's for unlabeled data, GT for val
        unlabeled = ds_type == 'UnlabeledTopDownDataset'
        ds['bbox_file'] = str(FIXTURES / DETECTIONS) if unlabeled else None


def _fix_mpii(ds: dict) -> None:
    if str(ds.get('type', '')).split('.')[-1] == 'MpiiDataset' and ds.get('headbox_file'):
        ds['headbox_file'] = None  # the fixture has no head boxes (.mat)


def _fix_metric(metric: dict) -> None:
    if str(metric.get('type', '')).split('.')[-1] in ('CocoMetric', ) and 'ann_file' in metric:
        metric['ann_file'] = str(FIXTURES / 'coco/test_coco.json')
    if metric.get('outfile_prefix'):
        metric['outfile_prefix'] = None


def _no_pretrained(node: dict) -> None:
    init = node.get('init_cfg')
    if isinstance(init, dict) and init.get('type') == 'Pretrained':
        node['init_cfg'] = None
    if node.get('pretrained') and isinstance(node['pretrained'], str):
        node['pretrained'] = None


AFFINE_TRANSFORMS = ('TopdownAffine', 'TopdownAffineWithMatrix')


def _smaller(size: int) -> int:
    """About half of ``size``, kept a multiple of 32 (every backbone stride stays integral)."""
    return 32 * max(2, round(size / 64))


def _half_resolution(node: dict) -> None:
    """Shrink top-down input and heatmap sizes (codecs and affine transforms) about 2x so the
    big pose models of the model zoo train 2 iterations in seconds on a CPU; the architecture
    is unchanged (256x192 -> 128x96, 384x288 -> 192x128)."""
    if 'input_size' in node and 'heatmap_size' in node:
        stride = [i / h for i, h in zip(node['input_size'], node['heatmap_size'])]
        node['input_size'] = tuple(_smaller(int(v)) for v in node['input_size'])
        node['heatmap_size'] = tuple(int(i / s) for i, s in zip(node['input_size'], stride))
        if 'sigma' in node and isinstance(node['sigma'], (int, float)):
            node['sigma'] = max(1., node['sigma'] / 2)
    elif str(node.get('type', '')).split('.')[-1] in AFFINE_TRANSFORMS and 'input_size' in node:
        node['input_size'] = tuple(_smaller(int(v)) for v in node['input_size'])


def _small_loader(loader: dict, batch_size: int) -> None:
    loader['num_workers'] = 0
    loader['persistent_workers'] = False
    loader['batch_size'] = batch_size
    sampler = loader.get('sampler') or {}
    if 'batch_size' in sampler:
        sampler['batch_size'] = batch_size


def smoke_config(rel_path: str, tmp_dir: Path) -> Config:
    cfg = Config.fromfile(str(CONFIG_ROOT / rel_path))
    cfg.work_dir = str(tmp_dir)
    cfg.load_from = None
    cfg.resume = False
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(key):
            _walk(cfg[key], _point_dataset_at_fixtures)
            _walk(cfg[key], _fix_mpii)
    for key in ('val_evaluator', 'test_evaluator'):
        if cfg.get(key):
            _walk(cfg[key], _fix_metric)
            if isinstance(cfg[key], dict) and cfg[key].get('type') == 'MpiiPCKAccuracy':
                # PCKh needs the head boxes, which the fixture does not have
                cfg[key] = dict(type='PCKAccuracy', thr=0.5, norm_item='bbox')
    _walk(cfg.model, _no_pretrained)
    if str(cfg.get('default_scope')) == 'mmpose':
        nodes = {}  # by id: a dict shared by several places is halved once
        for key in ('model', 'train_dataloader', 'val_dataloader', 'test_dataloader'):
            if cfg.get(key):
                _walk(cfg[key], lambda d: nodes.setdefault(id(d), d))
        for node in nodes.values():
            _half_resolution(node)
    train_bs = cfg.train_dataloader.get('batch_size', 2)
    ratio = (cfg.train_dataloader.get('sampler') or {}).get('source_ratio')
    _small_loader(cfg.train_dataloader, int(sum(ratio)) if ratio else min(train_bs, 2))
    for key in ('val_dataloader', 'test_dataloader'):
        if cfg.get(key):
            _small_loader(cfg[key], 4)
            if 'datasets' not in cfg[key].dataset:
                cfg[key].dataset.indices = 4  # evaluate a few samples: the metric still runs
    if cfg.get('train_cfg') and 'runner_type' not in cfg:
        cfg.train_cfg = ConfigDict(type='IterBasedTrainLoop', max_iters=2, val_interval=10**6)
        cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
        cfg.log_processor = dict(type='LogProcessor', window_size=1, by_epoch=False)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=10**6,
                                        by_epoch=False, save_last=False)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    folder = Path(rel_path).parts[0]
    hook = REPO_ROOT / 'tests' / f'test_{folder}' / 'smoke_overrides.py'
    if hook.is_file():
        spec = importlib.util.spec_from_file_location(f'smoke_overrides_{folder}', hook)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.smoke_overrides(cfg, tmp_dir)
    return cfg


def test_configs_exist():
    assert 'quickstart/td-hm_res18_synthetic-body-128x96.py' in CONFIGS


def _structure(cfg: Config) -> str:
    """What makes two configs train differently beyond data files and schedules."""
    pipelines = []
    _walk(cfg.train_dataloader, lambda d: pipelines.append(
        [str(t.get('type')) for t in d['pipeline']]) if isinstance(d.get('pipeline'),
                                                               list) else None)
    sampler = (cfg.train_dataloader.get('sampler') or {}).get('type')
    return repr((cfg.model.to_dict() if hasattr(cfg.model, 'to_dict') else cfg.model,
                 pipelines, sampler, cfg.get('runner_type'),
                 (cfg.get('self_training') or {}).get('mode')))


TRAINED_STRUCTURES = {}


@pytest.mark.parametrize('rel_path', CONFIGS)
def test_config_trains_two_iterations(rel_path, tmp_path):
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    cfg = smoke_config(rel_path, tmp_path)
    structure = _structure(cfg)
    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
    if structure in TRAINED_STRUCTURES and 'runner_type' in cfg:
        return  # built and validated; this structure already ran its whole curriculum
    if structure in TRAINED_STRUCTURES:
        # same model and pipelines as an earlier config: build its data and evaluator only
        loader = runner.build_dataloader(cfg.train_dataloader)
        assert next(iter(loader))
        if cfg.get('val_evaluator'):
            runner.build_evaluator(cfg.val_evaluator)
        return
    TRAINED_STRUCTURES[structure] = rel_path
    runner.train()
    if 'runner_type' in cfg:
        return  # multi-stage runners validate inside their stages
    assert runner.iter == 2, f'{rel_path}: trained {runner.iter} iterations'
    if cfg.get('val_dataloader') and cfg.get('val_evaluator'):
        metrics = runner.val_loop.run()
        if metrics is None:  # e.g. mmdet's TeacherStudentValLoop logs but does not return
            metrics = {k: v for k, v in runner.message_hub.log_scalars.items()
                       if k.startswith('val/')}
        assert metrics, f'{rel_path}: the evaluator returned no metric'
    assert osp.isdir(cfg.work_dir)
