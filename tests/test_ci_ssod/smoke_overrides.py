"""Overrides that make any config under configs/ci_ssod/ train for a few iterations on CPU.

``smoke_overrides(cfg, tmp_dir)`` edits a loaded mmengine ``Config`` in place:

* generates (once per ``tmp_dir``) a tiny synthetic long-tail detection set (64 px images,
  6 shape classes) and points every train / val / test dataset and the evaluators at it;
* shrinks the detector (ResNet-18 with 16 base channels and GroupNorm, no pretrained
  weights, 32-channel FPN, 6 classes; GbR's ``num_classes`` follows) and the resize scales;
* sets GbR / GbT warm-up to 1 iteration and CrS refresh to every iteration so that the
  method's code paths run within the smoke iterations;
* LVIS-style evaluators (``GroupCocoMetric(frequency_groups=True)``) get a copy of the
  synthetic validation file whose categories carry an LVIS ``frequency`` (r / c / f by the
  classes' labeled-instance counts, rarest third 'r'), the fixture's stand-in for LVIS's;
* 2 training iterations (iteration-based configs) or 1 short epoch (epoch-based configs),
  ``num_workers=0``, a fixed seed and ``work_dir = tmp_dir/work_dir``; validation and
  checkpoint intervals are left to the caller.

Used by tests/test_ci_ssod/test_configs_smoke.py and by the project's config smoke harness.
"""
import os.path as osp
from typing import Any, Dict

from mmengine.config import Config, ConfigDict

from mmssl.datasets.synthetic_detection import generate_synthetic_detection

SMOKE_DATA = dict(
    num_classes=6, num_train=16, num_labeled=6, num_val=4, image_size=64,
    imbalance_ratio=10.0, min_labeled_per_class=1, max_objects=3, seed=0)


def make_smoke_data(tmp_dir: str) -> Dict[str, Any]:
    """Generate the tiny set under ``tmp_dir/ci_ssod_synthetic`` (once) and describe it."""
    import json
    root = osp.join(tmp_dir, 'ci_ssod_synthetic')
    meta = osp.join(root, 'meta.json')
    if not osp.isfile(meta):
        generate_synthetic_detection(root, **SMOKE_DATA)
    with open(meta) as f:
        info = json.load(f)
    return dict(root=root + '/', classes=tuple(info['classes']),
                minority=list(info['minority_classes']))


def lvis_style_val(root: str) -> str:
    """``annotations/val_lvis.json``: the synthetic val file with an LVIS ``frequency`` per
    category (thirds of the classes by labeled-instance count: 'r', 'c', 'f'); written
    atomically once."""
    import json
    import os
    out = osp.join(root, 'annotations', 'val_lvis.json')
    if osp.isfile(out):
        return out
    with open(osp.join(root, 'annotations', 'train_labeled.json')) as f:
        labeled = json.load(f)
    with open(osp.join(root, 'annotations', 'val.json')) as f:
        val = json.load(f)
    counts = {c['id']: 0 for c in val['categories']}
    for ann in labeled['annotations']:
        counts[ann['category_id']] = counts.get(ann['category_id'], 0) + 1
    order = sorted(counts, key=lambda i: (counts[i], i))
    third = max(1, len(order) // 3)
    freq = {cat_id: 'rcf'[min(k // third, 2)] for k, cat_id in enumerate(order)}
    for cat in val['categories']:
        cat['frequency'] = freq[cat['id']]
    tmp = out + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(val, f)
    os.replace(tmp, out)
    return out


def _shrink_scales(node) -> None:
    """Resize scales of every (Random)Resize transform in a nested pipeline -> ~64 px."""
    if isinstance(node, (list, tuple)):
        for item in node:
            _shrink_scales(item)
    elif isinstance(node, dict):
        if node.get('type') == 'RandomResize':
            node['scale'] = [(1333, 56), (1333, 72)]
        elif node.get('type') == 'Resize':
            node['scale'] = (1333, 64)
        for value in node.values():
            if isinstance(value, (list, tuple, dict)):
                _shrink_scales(value)


def _tiny_detector(detector: ConfigDict, num_classes: int) -> None:
    detector.backbone = ConfigDict(
        type='ResNet', depth=18, base_channels=16, num_stages=4, out_indices=(0, 1, 2, 3),
        frozen_stages=-1, norm_cfg=dict(type='GN', num_groups=8, requires_grad=True),
        norm_eval=False, style='pytorch', init_cfg=None)
    detector.neck.in_channels = [16, 32, 64, 128]
    detector.neck.out_channels = 32
    detector.rpn_head.in_channels = 32
    detector.rpn_head.feat_channels = 32
    roi = detector.roi_head
    roi.bbox_roi_extractor.out_channels = 32
    roi.bbox_head.in_channels = 32
    roi.bbox_head.fc_out_channels = 64
    roi.bbox_head.num_classes = num_classes
    loss_cls = roi.bbox_head.loss_cls
    if loss_cls.get('type') == 'GbRCrossEntropyLoss':
        loss_cls.num_classes = num_classes
        loss_cls.warmup_iters = 1
    detector.train_cfg.rpn_proposal.nms_pre = 200
    detector.train_cfg.rpn_proposal.max_per_img = 100
    detector.train_cfg.rcnn.sampler.num = 64
    detector.test_cfg.rpn.nms_pre = 200
    detector.test_cfg.rpn.max_per_img = 100


def _point_dataset(dataset: ConfigDict, data: Dict[str, Any], ann: str) -> None:
    dataset.data_root = data['root']
    dataset.ann_file = f'annotations/{ann}.json'
    dataset.data_prefix = dict(img='images/')
    dataset.metainfo = dict(classes=data['classes'])
    if dataset.get('filter_cfg') and dataset.filter_cfg.get('min_size'):
        dataset.filter_cfg.min_size = 4


def _loader(loader: ConfigDict, batch_size: int) -> None:
    loader.num_workers = 0
    loader.persistent_workers = False
    loader.batch_size = batch_size


def smoke_overrides(cfg: Config, tmp_dir: str) -> Config:
    """Edit ``cfg`` in place for a CPU smoke run (see the module docstring); returns it."""
    data = make_smoke_data(tmp_dir)
    num_classes = len(data['classes'])
    model = cfg.model
    semi = 'detector' in model  # teacher-student wrappers (SoftTeacher, CISoftTeacher, ...)
    detector = model.detector if semi else model
    _tiny_detector(detector, num_classes)
    if semi and model.get('semi_train_cfg', {}).get('gbt') is not None:
        model.semi_train_cfg.gbt.warmup_iters = 1
        model.semi_train_cfg.gbt.num_init = 5

    train = cfg.train_dataloader
    if semi:
        labeled, unlabeled = train.dataset.datasets
        _point_dataset(labeled, data, 'train_labeled')
        _point_dataset(unlabeled, data, 'train_unlabeled')
        _loader(train, 3)
        train.sampler.batch_size = 3
        train.sampler.source_ratio = [1, 2]
    else:
        _point_dataset(train.dataset, data, 'train_labeled')
        _loader(train, 2)
    _shrink_scales(train.dataset)
    for key in ('val_dataloader', 'test_dataloader'):
        if cfg.get(key):
            _point_dataset(cfg[key].dataset, data, 'val')
            _loader(cfg[key], 2)
            _shrink_scales(cfg[key].dataset)
    for key in ('val_evaluator', 'test_evaluator'):
        evaluator = cfg.get(key)
        if evaluator:
            evaluator.ann_file = osp.join(data['root'], 'annotations', 'val.json')
            if evaluator.get('type') == 'GroupCocoMetric':
                evaluator.minority_classes = data['minority']
                evaluator.class_groups_file = None
                if evaluator.get('frequency_groups'):
                    evaluator.ann_file = lvis_style_val(data['root'])
    for hook in cfg.get('custom_hooks', []):
        if hook.type == 'CISSODStatisticsHook':
            hook.minority_classes = data['minority']
            hook.class_groups_file = None
            hook.interval = 1
        elif hook.type == 'CrSRefreshHook':
            hook.interval = 1

    if cfg.train_cfg.get('type') == 'IterBasedTrainLoop':
        cfg.train_cfg.max_iters = 2
    else:
        cfg.train_cfg.max_epochs = 1
    cfg.default_hooks.logger.interval = 1
    cfg.load_from = None
    cfg.resume = False
    cfg.randomness = dict(seed=0)
    cfg.work_dir = osp.join(tmp_dir, 'work_dir')
    return cfg


def runner_without_cfg_dump(cfg: Config):
    """``Runner.from_cfg`` with the same entries but no ``cfg`` object attached.

    Identical training; it only skips mmengine's yapf pretty-printing of the whole config
    (log, checkpoint meta), which takes seconds per call for the large Soft Teacher configs.
    """
    from mmengine.runner import Runner
    kwargs = {k: cfg.get(k) for k in (
        'train_dataloader', 'val_dataloader', 'test_dataloader', 'train_cfg', 'val_cfg',
        'test_cfg', 'auto_scale_lr', 'optim_wrapper', 'param_scheduler', 'val_evaluator',
        'test_evaluator', 'default_hooks', 'custom_hooks', 'data_preprocessor', 'load_from',
        'log_processor', 'visualizer', 'experiment_name')}
    return Runner(
        model=cfg['model'], work_dir=cfg['work_dir'], resume=cfg.get('resume', False),
        launcher='none', env_cfg=cfg.get('env_cfg', dict(dist_cfg=dict(backend='gloo'))),
        log_level='WARNING', default_scope=cfg.get('default_scope', 'mmengine'),
        randomness=cfg.get('randomness', dict(seed=None)), **kwargs)
