"""Shared pytest fixtures: paths to the real annotation fixtures, tiny configs, synthetic data."""
from pathlib import Path

import pytest

from mmssl_testing import FIXTURES, REPO_ROOT, load_tiny_pose_cfg


@pytest.fixture(autouse=True, scope='session')
def unformatted_config_text():
    """Config text (runner log, work-dir dump, checkpoint meta, ``tools/test.py``'s dump) is
    written without mmengine's yapf pass: the text is the same valid Python, only not
    re-wrapped. yapf takes up to 16 s per call on the large Soft Teacher / HRNet configs and a
    run calls it about ten times; it was most of the as-shipped harness's time."""
    import mmengine.config.config as mm_config
    formatter = mm_config.FormatCode
    mm_config.FormatCode = lambda text, **_: (text, None)
    yield
    mm_config.FormatCode = formatter


@pytest.fixture(scope='session')
def fixtures_dir() -> Path:
    """``../shared/fixtures``: small real COCO / MPII / 300W / WFLW files from MMPose."""
    assert FIXTURES.is_dir(), f'fixtures not found at {FIXTURES} (set MMSSL_FIXTURES)'
    return FIXTURES


@pytest.fixture(scope='session')
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture
def tiny_pose_cfg(tmp_path):
    return load_tiny_pose_cfg(tmp_path / 'work')


@pytest.fixture(scope='session')
def synthetic_body(tmp_path_factory) -> Path:
    """A small synthetic body dataset with the PoseDual split layout of
    ``configs/posedual/synthetic`` (``semi_anns/...labeled@first100.json``: here the first 12
    instances are labeled, every box unlabeled)."""
    from mmssl.datasets.splits import load_coco, split_first_n_instances, write_coco
    from mmssl.datasets.synthetic import generate_body_keypoints
    root = tmp_path_factory.mktemp('synthetic') / 'body'
    ann = generate_body_keypoints(str(root), 16, seed=1, split='train')
    generate_body_keypoints(str(root), 4, seed=2, split='val')
    lab, unl = split_first_n_instances(load_coco(ann), 12)
    write_coco(lab, str(root / 'semi_anns/person_keypoints_train.labeled@first100.json'))
    write_coco(unl, str(root / 'semi_anns/person_keypoints_train.unlabeled@first100.json'))
    return root
