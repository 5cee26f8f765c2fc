"""Shared test helpers (imported by tests as ``mmssl_testing``; fixtures are in conftest)."""
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get('MMSSL_FIXTURES', REPO_ROOT.parent / 'shared' / 'fixtures'))


def load_tiny_pose_cfg(work_dir: Path):
    """The tiny deterministic SimpleBaseline config with absolute fixture paths."""
    from mmengine.config import Config
    cfg = Config.fromfile(str(REPO_ROOT / 'tests/data/tiny_td-hm_res18_coco.py'))
    root = str(FIXTURES) + '/'
    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        loader.dataset.data_root = root
    cfg.val_evaluator.ann_file = root + 'coco/test_coco.json'
    cfg.test_evaluator.ann_file = root + 'coco/test_coco.json'
    cfg.work_dir = str(work_dir)
    return cfg


def load_semi_pose_cfg(rel_config: str, data_root: Path, work_dir: Path, batch_size: int = 4,
                       tiny: bool = True):
    """A config of configs/posedual/synthetic pointed at ``data_root``, single-worker, with a
    tiny backbone when ``tiny`` (the PoseDual machinery is what the tests exercise)."""
    from mmengine.config import Config
    cfg = Config.fromfile(str(REPO_ROOT / 'configs' / rel_config))
    root = str(data_root) + '/'

    def point(loader):
        loader.num_workers = 0
        loader.persistent_workers = False
        ds = loader.dataset
        for sub in ds.get('datasets', [ds]):
            sub.data_root = root
    point(cfg.train_dataloader)
    point(cfg.val_dataloader)
    point(cfg.test_dataloader)
    for ev in (cfg.val_evaluator, cfg.test_evaluator):
        for metric in ev if isinstance(ev, list) else [ev]:
            if 'ann_file' in metric:
                metric.ann_file = root + 'annotations/person_keypoints_val.json'
    cfg.train_dataloader.batch_size = batch_size
    if 'batch_size' in cfg.train_dataloader.sampler:
        cfg.train_dataloader.sampler.batch_size = batch_size
    if tiny:
        est = cfg.model.get('estimator', cfg.model)
        est.backbone.base_channels = est.backbone.stem_channels = 8
        est.head.in_channels = 64
        est.head.deconv_out_channels = (16, 16, 16)
    cfg.work_dir = str(work_dir)
    cfg.default_hooks.logger.interval = 1
    return cfg
