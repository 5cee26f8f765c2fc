"""The lifting CPM (fusion between MMPose CPM stages), the 3D estimator and MPJPE evaluation."""
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
from lifting_helpers import smoke_lifting_config
from mmssl.datasets.synthetic_lifting_images import make_synthetic_lifting_data
from mmssl.models.lifting import LiftingCPM, PPCAMixtureLifter

REPO = Path(__file__).resolve().parents[3]
CONFIG = REPO / 'configs/lifting/cpm-lift_1xb16-60e_synthetic-h36m-128x128.py'


def test_disabled_fusion_is_mmpose_cpm_and_default_init_is_within_eps_of_it(lifter):
    torch.manual_seed(0)
    cpm = CPM(3, 17, feat_channels=16, num_stages=3)
    plain = LiftingCPM(3, 17, lifter=lifter, feat_channels=16, num_stages=3,
                       fusion=dict(enabled=False, vis_thr=-1.))
    fused = LiftingCPM(3, 17, lifter=lifter, feat_channels=16, num_stages=3,
                       fusion=dict(init_weights=[(0., 1.), (0., 1.)], vis_thr=-1.))
    for model in (cpm, plain, fused):
        model.eval()
    for model in (plain, fused):
        missing, unexpected = model.load_state_dict(cpm.state_dict(), strict=False)
        assert not unexpected and set(missing) == {
            'fusion.weight_logits', 'fusion.lifter.prior_mu', 'fusion.lifter.prior_e',
            'fusion.lifter.prior_sigma'}
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        ref, out = cpm(x), plain(x)
        assert len(out) == 3 and all(o.shape == (2, 17, 8, 8) for o in out)
        assert all(torch.equal(a, b) for a, b in zip(ref, out))
        # the plain network is still lifted at every stage outside training (per-stage MPJPE)
        assert all(r is not None and r.valid.all() for r in plain.stage_liftings())
        # (0, 1) under softmax starts at (1e-3, 1 - 1e-3): within 0.1 % of plain CPM
        torch.testing.assert_close(fused.fusion_weights,
                                   torch.tensor([[1e-3, 1 - 1e-3]] * 2), rtol=0, atol=1e-7)
        near = fused(x)
        bound = 1.01e-3 * (1 + ref[0].abs().max())
        assert (near[0] - ref[0]).abs().max() <= bound
        assert (near[0] - ref[0]).abs().max() > 0
        fused.fusion.weight_logits.zero_()  # (0.5, 0.5)
        mixed = fused(x)
    assert not torch.allclose(mixed[1], ref[1])
    assert all(r.valid.all() for r in fused.stage_liftings())
    plain.train()
    plain(x)
    assert plain.stage_liftings() == [None, None]  # no lifting cost when training plain CPM


def test_fusion_weights_and_cnn_receive_gradients_in_training(lifter):
    torch.manual_seed(1)
    model = LiftingCPM(3, 17, lifter=lifter, feat_channels=16, num_stages=3,
                       fusion=dict(vis_thr=-1.))
    model.train()
    outs = model(torch.randn(2, 3, 64, 64))
    sum(o.pow(2).mean() for o in outs).backward()
    logits = model.fusion.weight_logits
    assert logits.grad[:, 0].abs().min() > 0  # w_proj of every fused stage
    assert model.stem[0].conv.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='16 belief maps'):
        LiftingCPM(3, 16, lifter=lifter, num_stages=3)
    with pytest.raises(ValueError, match='decode must be one of'):
        LiftingCPM(3, 17, lifter=lifter, num_stages=3, fusion=dict(decode='soft'))
    with pytest.raises(ValueError, match='>= 0 with a positive sum'):
        LiftingCPM(3, 17, lifter=lifter, num_stages=3, fusion=dict(init_weights=[(0, 0)] * 2))


def test_checkpoints_of_the_linear_weights_load_as_the_same_normalised_weights(lifter):
    model = LiftingCPM(3, 17, lifter=lifter, feat_channels=16, num_stages=3)
    state = model.state_dict()
    del state['fusion.weight_logits']
    state['fusion.weights'] = torch.tensor([[0.2, 0.6], [1.5, 0.5]])
    model.load_state_dict(state)
    torch.testing.assert_close(model.fusion_weights, torch.tensor([[0.25, 0.75], [0.75, 0.25]]))


@pytest.fixture(scope='module', autouse=True)
def mmpose_scope():
    init_default_scope('mmpose')


@pytest.fixture(scope='module')
def lifting_data(tmp_path_factory):
    out = tmp_path_factory.mktemp('lifting') / 'synthetic_lifting'
    return make_synthetic_lifting_data(str(out), num_train=4, num_val=8, img_size=64,
                                       num_prior_poses=1500, seed=0)


def _smoke_cfg(tmp_path) -> Config:
    cfg = smoke_lifting_config(tmp_path)
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


def test_config_model_keeps_2d_keypoints_and_writes_3d_fields(tmp_path):
    cfg = _smoke_cfg(tmp_path)
    model = MODELS.build(cfg.model).eval()
    dataset = DATASETS.build(cfg.val_dataloader.dataset)
    batch = pseudo_collate([dataset[i] for i in range(2)])
    with torch.no_grad():
        out = model.test_step(batch)
    cfg_2d = cfg.model.copy()
    cfg_2d.test_cfg = dict(cfg_2d.test_cfg, output_3d=False)
    plain = MODELS.build(cfg_2d).eval()
    plain.load_state_dict(model.state_dict())
    with torch.no_grad():
        out_2d = plain.test_step(batch)
    for sample, sample_2d in zip(out, out_2d):
        inst = sample.pred_instances
        # 2D: MMPose's own top-down result, in pixels of the original image
        assert inst.keypoints.shape == (1, 17, 2) and inst.keypoint_scores.shape == (1, 17)
        np.testing.assert_array_equal(inst.keypoints, sample_2d.pred_instances.keypoints)
        assert 'keypoints_3d' not in sample_2d.pred_instances
        height, width = sample.ori_shape
        assert (inst.keypoints >= -width).all() and (inst.keypoints <= 2 * width).all()
        # 3D: root-relative mm, and one lifted pose per fused stage (smoke: 3 stages)
        assert inst.keypoints_3d.shape == (1, 17, 3) and np.allclose(inst.keypoints_3d[0, 0], 0)
        assert inst.stage_keypoints_3d.shape == (1, 2, 17, 3)
        assert np.allclose(inst.stage_keypoints_3d[0, :, 0], 0)
        assert inst.lifting_valid.shape == (1, )
    with pytest.raises(ValueError, match='needs a lifter'):
        bad = cfg.model.copy()
        bad.backbone = dict(type='CPM', in_channels=3, out_channels=17, num_stages=6)
        MODELS.build(bad)
