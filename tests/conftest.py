"""Shared test fixtures: paths to the real annotation fixtures and a temporary work dir."""
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get('MMSSL_FIXTURES', REPO_ROOT.parent / 'shared' / 'fixtures'))


@pytest.fixture(scope='session')
def fixtures_dir() -> Path:
    """``../shared/fixtures``: small real COCO / MPII / 300W / WFLW files from MMPose."""
    assert FIXTURES.is_dir(), f'fixtures not found at {FIXTURES} (set MMSSL_FIXTURES)'
    return FIXTURES


@pytest.fixture(scope='session')
def repo_root() -> Path:
    return REPO_ROOT


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


@pytest.fixture
def tiny_pose_cfg(tmp_path):
    return load_tiny_pose_cfg(tmp_path / 'work')
