"""The lifting CPM (fusion between MMPose CPM stages), the 3D estimator and MPJPE evaluation."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmpose.models.backbones import CPM
from mmpose.registry import DATASETS, METRICS, MODELS

from lifting_helpers import lifter, prior, single_thread  # noqa: F401  (fixtures)
from mmssl.datasets.synthetic_lifting_images import make_synthetic_lifting_data
from mmssl.models.lifting import LiftingCPM, PPCAMixtureLifter

REPO = Path(__file__).resolve().parents[3]
CONFIG = REPO / 'configs/lifting/cpm-lift_1xb16-60e_synthetic-h36m-128x128.py'


def test_with_belief_only_weights_the_lifting_cpm_is_mmpose_cpm(lifter):
    torch.manual_seed(0)
    cpm = CPM(3, 17, feat_channels=16, num_stages=3)
    lcpm = LiftingCPM(3, 17, lifter=lifter, feat_channels=16, num_stages=3,
                      fusion=dict(init_weights=[(0., 1.), (0., 1.)], vis_thr=-1.))
    cpm.eval()
    lcpm.eval()
    missing, unexpected = lcpm.load_state_dict(cpm.state_dict(), strict=False)
    assert not unexpected and set(missing) == {
        'fusion.weights', 'fusion.lifter.prior_mu', 'fusion.lifter.prior_e',
        'fusion.lifter.prior_sigma'}
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        ref, out = cpm(x), lcpm(x)
        assert len(out) == 3 and all(o.shape == (2, 17, 8, 8) for o in out)
        assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(ref, out))
        lcpm.fusion.weights.fill_(0.5)
        mixed = lcpm(x)
    assert not torch.allclose(mixed[1], ref[1])
    # every fused stage was lifted (vis_thr=-1: all joints visible)
    assert all(r.valid.all() for r in lcpm.stage_liftings())


def test_fusion_weights_and_cnn_receive_gradients_in_training(lifter):
    torch.manual_seed(1)
    model = LiftingCPM(3, 17, lifter=lifter, feat_channels=16, num_stages=3,
                       fusion=dict(vis_thr=-1.))
    model.train()
    outs = model(torch.randn(2, 3, 64, 64))
    sum(o.pow(2).mean() for o in outs).backward()
    assert model.fusion_weights.grad[:, 0].abs().min() > 0  # w_proj of every fused stage
    assert model.stem[0].conv.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='16 belief maps'):
        LiftingCPM(3, 16, lifter=lifter, num_stages=3)


@pytest.fixture(scope='module', autouse=True)
def mmpose_scope():
    init_default_scope('mmpose')


@pytest.fixture(scope='module')
def lifting_data(tmp_path_factory):
    out = tmp_path_factory.mktemp('lifting') / 'synthetic_lifting'
    return make_synthetic_lifting_data(str(out), num_train=4, num_val=8, img_size=64,
                                       num_prior_poses=1500, seed=0)


def _smoke_cfg(tmp_path) -> Config:
    spec = importlib.util.spec_from_file_location(
        'lifting_smoke', REPO / 'tests/test_lifting/smoke_overrides.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cfg = Config.fromfile(str(CONFIG))
    module.smoke_overrides(cfg, tmp_path)
    return cfg


def test_dataset_packs_3d_targets_and_gt_lifting_scores_well_with_mpjpe(lifting_data):
    cfg = Config.fromfile(str(CONFIG))
    ds_cfg = cfg.val_dataloader.dataset
    ds_cfg.update(data_root=str(Path(lifting_data['prior']).parent) + '/',
                  pipeline=[p for p in ds_cfg.pipeline if p['type'] != 'TopdownAffine'])
    dataset = DATASETS.build(ds_cfg)
    assert len(dataset) == 8
    samples = [dataset[i]['data_samples'] for i in range(len(dataset))]
    gt = samples[0].gt_instances
    assert gt.lifting_target.shape == (1, 17, 3) and np.allclose(gt.lifting_target[0, 0], 0)
    assert samples[0].target_img_path[0].endswith('.png')
    # lift the ground-truth 2D: mmpose's MPJPE must see small, plausible errors (mm)
    lifter = PPCAMixtureLifter(lifting_data['prior'], noise_2d=0.02)
    kpts = torch.tensor(np.concatenate([s.gt_instances.keypoints for s in samples]))
    lifted = lifter(kpts.double())
    results = {}
    for mode in ('mpjpe', 'p-mpjpe'):
        metric = METRICS.build(dict(type='MPJPE', mode=mode))
        metric.dataset_meta = dataset.metainfo
        metric.process([], [dict(pred_instances=dict(keypoints=lifted.poses_3d[i:i + 1]
                                                     .numpy()),
                                 gt_instances=s.gt_instances.to_dict(),
                                 target_img_path=s.target_img_path)
                            for i, s in enumerate(samples)])
        results.update(metric.evaluate(len(samples)))
    gt3d = np.concatenate([s.gt_instances.lifting_target for s in samples])
    flat = gt3d.copy()
    flat[..., 1] = 0  # the same frame without depth: what a 2D-only answer scores
    baseline = np.linalg.norm(flat - gt3d, axis=-1).mean()
    print(results, 'depth-less', baseline)
    assert results['MPJPE'] < 120 and results['P-MPJPE'] < 90, results
    assert results['MPJPE'] < 0.7 * baseline


def test_config_model_predicts_3d_poses_for_the_mpjpe_metric(tmp_path):
    cfg = _smoke_cfg(tmp_path)
    model = MODELS.build(cfg.model).eval()
    dataset = DATASETS.build(cfg.val_dataloader.dataset)
    batch = pseudo_collate([dataset[i] for i in range(2)])
    with torch.no_grad():
        out = model.test_step(batch)
    inst = out[0].pred_instances
    assert inst.keypoints.shape == (1, 17, 3) and inst.keypoints_2d.shape == (1, 17, 2)
    assert np.allclose(inst.keypoints[0, 0], 0)  # root-relative mm
    metric = METRICS.build(dict(type='MPJPE'))
    metric.dataset_meta = dataset.metainfo
    metric.process(batch, [o.to_dict() for o in out])
    assert np.isfinite(metric.evaluate(2)['MPJPE'])
    with pytest.raises(ValueError, match='needs a lifter'):
        bad = cfg.model.copy()
        bad.backbone = dict(type='CPM', in_channels=3, out_channels=17, num_stages=6)
        MODELS.build(bad)
