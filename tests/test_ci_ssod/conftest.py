"""Shared fixtures of the CI-SSOD tests: a tiny synthetic set and tiny configs."""
import importlib.util
import os.path as osp

import pytest
from mmengine.config import Config

_spec = importlib.util.spec_from_file_location(  # by path: not shadowing other folders'
    'ci_ssod_smoke_overrides', osp.join(osp.dirname(__file__), 'smoke_overrides.py'))
_overrides = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_overrides)
make_smoke_data, smoke_overrides = _overrides.make_smoke_data, _overrides.smoke_overrides

CONFIG_DIR = osp.join(osp.dirname(__file__), '..', '..', 'configs', 'ci_ssod')


@pytest.fixture(scope='session')
def ci_data_dir(tmp_path_factory) -> str:
    """A folder holding the tiny synthetic long-tail set (generated once per session)."""
    tmp = str(tmp_path_factory.mktemp('ci_ssod'))
    make_smoke_data(tmp)
    return tmp


@pytest.fixture
def tiny_cfg(ci_data_dir, tmp_path):
    """Loader of a configs/ci_ssod config with the smoke overrides applied."""

    def load(name: str) -> Config:
        cfg = Config.fromfile(osp.join(CONFIG_DIR, name))
        smoke_overrides(cfg, ci_data_dir)
        cfg.work_dir = str(tmp_path / 'work_dir')
        return cfg

    return load

