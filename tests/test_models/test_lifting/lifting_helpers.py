"""Shared fixtures of the lifting tests: a pose model fitted on synthetic poses, a lifter, and
the shipped synthetic config at smoke size."""
import importlib.util
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from mmssl.datasets.synthetic_pose3d import H36M_JOINT_NAMES, H36M_PARENTS, sample_poses3d
from mmssl.models.lifting import PPCAMixtureLifter, PosePrior, fit_pose_prior
from mmssl.models.lifting import project_held_out as _project

REPO = Path(__file__).resolve().parents[3]
CONFIG = REPO / 'configs/lifting/cpm-lift_1xb16-60e_synthetic-h36m-128x128.py'


def smoke_lifting_config(data_dir, config: Path = CONFIG) -> Config:
    """``config`` with the as-shipped harness's lifting overrides
    (tests/test_lifting/smoke_overrides.py: a small model, synthetic data and prior written
    under ``data_dir``)."""
    spec = importlib.util.spec_from_file_location(
        'lifting_smoke', REPO / 'tests/test_lifting/smoke_overrides.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cfg = Config.fromfile(str(config))
    module.smoke_overrides(cfg, data_dir)
    return cfg


@pytest.fixture(autouse=True, scope='module')
def single_thread():
    """One intra-op thread: the shared 2-core machine runs small ops faster that way."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='module')
def prior() -> PosePrior:
    """3 charts x 25 bases fitted on 3000 synthetic poses (about 0.2 s)."""
    return fit_pose_prior(sample_poses3d(3000, seed=0), H36M_PARENTS, num_charts=3,
                          num_bases=25, num_iters=5, joint_names=H36M_JOINT_NAMES)


@pytest.fixture(scope='module')
def lifter(prior) -> PPCAMixtureLifter:
    return PPCAMixtureLifter(prior, num_rotations=100, noise_2d=0.02)


def project_held_out(num: int, seed: int, scale: float = 0.2, offset: float = 100.):
    """Held-out poses (generator seed ``seed``; the fixture prior is fitted on seed 0) at
    random headings: camera-frame poses (mm, root-relative) and their orthographic image
    landmarks ``(num, 17, 2)`` (``y`` down), by the library's held-out projection."""
    return _project(sample_poses3d(num, seed=seed), seed=seed, scale=scale, offset=offset)
