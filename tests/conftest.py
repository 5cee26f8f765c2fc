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
