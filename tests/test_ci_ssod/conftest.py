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
