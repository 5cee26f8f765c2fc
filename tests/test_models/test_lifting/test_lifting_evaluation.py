"""One validation of the lifting config: 2D (PCK, EPE), 3D (MPJPE, P-MPJPE) and per-stage
MPJPE side by side; the 2D result is what MMPose's visualizer draws."""

import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope
from mmpose.evaluation.functional import keypoint_mpjpe
from mmpose.registry import DATASETS, MODELS, VISUALIZERS

from lifting_helpers import single_thread  # noqa: F401  (fixtures)
from lifting_helpers import smoke_lifting_config


@pytest.fixture(scope='module')
def validated(tmp_path_factory):
    """The smoke-sized config model, its val predictions of 4 samples and their metrics."""
    init_default_scope('mmpose')
    cfg = smoke_lifting_config(tmp_path_factory.mktemp('evaluation'))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.eval()
    dataset = DATASETS.build(cfg.val_dataloader.dataset)
    batch = pseudo_collate([dataset[i] for i in range(4)])
    with torch.no_grad():
        outs = model.test_step(batch)
    evaluator = Evaluator(cfg.val_evaluator)
    evaluator.dataset_meta = dataset.metainfo
    evaluator.process(outs, batch)
    return cfg, dataset, outs, evaluator.evaluate(4)


def test_one_validation_gives_2d_3d_and_per_stage_metrics(validated):
    cfg, _, outs, metrics = validated
    assert cfg.default_hooks.checkpoint.save_best in metrics
    for key in ('PCK', 'EPE', 'MPJPE', 'P-MPJPE', 'MPJPE_s1', 'MPJPE_s2'):
        assert key in metrics and np.isfinite(metrics[key]), (key, sorted(metrics))
    assert 'MPJPE_s3' not in metrics  # smoke model: 3 stages, 2 fused
    assert 0 <= metrics['PCK'] <= 1 and metrics['EPE'] > 0
    # the values are mmpose's on the right fields
    gt = np.concatenate([o.gt_instances.lifting_target for o in outs])
    mask = np.ones(gt.shape[:2], dtype=bool)
    pred = np.concatenate([o.pred_instances.keypoints_3d for o in outs])
    stages = np.concatenate([o.pred_instances.stage_keypoints_3d for o in outs])
    assert metrics['MPJPE'] == pytest.approx(keypoint_mpjpe(pred, gt, mask, 'none'), rel=1e-5)
    assert metrics['P-MPJPE'] == pytest.approx(
        keypoint_mpjpe(pred, gt, mask, 'procrustes'), rel=1e-5)
    for s in (0, 1):
        assert metrics[f'MPJPE_s{s + 1}'] == pytest.approx(
            keypoint_mpjpe(stages[:, s], gt, mask, 'none'), rel=1e-5)
    epe = np.mean([np.linalg.norm(o.pred_instances.keypoints - o.gt_instances.keypoints,
                                  axis=-1).mean() for o in outs])
    assert metrics['EPE'] == pytest.approx(epe, rel=1e-4)  # pixels, not millimetres


def test_lifting_metrics_explain_a_missing_3d_field():
    from mmssl.evaluation import LiftingMPJPE, LiftingStageMPJPE
    sample = dict(pred_instances=dict(keypoints=np.zeros((1, 17, 2))),
                  gt_instances=dict(lifting_target=np.zeros((1, 17, 3)),
                                    lifting_target_visible=np.ones((1, 17))),
                  target_img_path=['S1_Walking.png'])
    with pytest.raises(KeyError, match="no 'keypoints_3d'.*output_3d=False"):
        LiftingMPJPE().process([], [sample])
    sample['pred_instances']['stage_keypoints_3d'] = np.zeros((1, 17, 3))
    with pytest.raises(ValueError, match=r'\(instances, stages, K, 3\)'):
        LiftingStageMPJPE().process([], [sample])


def test_the_visualizer_draws_the_2d_prediction(validated):
    cfg, dataset, outs, _ = validated
    import mmcv
    vis = VISUALIZERS.build(dict(type='PoseLocalVisualizer', name='lifting_test_vis', radius=2,
                                 line_width=1))
    vis.set_dataset_meta(dataset.metainfo)
    sample = outs[0]
    img = mmcv.imread(sample.img_path, channel_order='rgb')
    drawn = vis.add_datasample('pred', img, data_sample=sample, draw_gt=False, show=False,
                               draw_bbox=False, kpt_thr=-1.)
    changed = np.argwhere((drawn != img).any(-1))
    assert len(changed)
    # what is drawn lies around the 2D keypoints (pixels), not at millimetre values
    kpts = sample.pred_instances.keypoints[0]
    lo, hi = kpts.min(0) - 6, kpts.max(0) + 6
    assert (changed[:, ::-1] >= lo).all() and (changed[:, ::-1] <= hi).all()


def test_per_stage_2d_keypoints_and_metrics(validated):
    """Every stage decoded by the codec, in image pixels: with flip test off the last stage
    is the final 2D prediction; PCK_sN / EPE_sN are mmpose's on each stage."""
    from mmpose.evaluation.functional import keypoint_epe
    cfg, _, outs, metrics = validated
    stages = np.concatenate([o.pred_instances.stage_keypoints for o in outs])
    assert stages.shape == (4, 3, 17, 2)  # smoke model: 3 stages
    gt = np.concatenate([o.gt_instances.keypoints for o in outs])
    mask = np.concatenate([o.gt_instances.keypoints_visible for o in outs]) > 0
    for s in range(3):
        assert metrics[f'EPE_s{s + 1}'] == pytest.approx(
            keypoint_epe(stages[:, s], gt, mask), rel=1e-5)
        assert 0 <= metrics[f'PCK_s{s + 1}'] <= 1
    assert 'PCK_s4' not in metrics


def test_stage_keypoints_follow_the_crop_into_the_image(validated):
    """A stage's pixels move with the crop: the same maps with a shifted input_center give
    keypoints shifted by that amount."""
    cfg, dataset, outs, _ = validated
    model_cfg = cfg.model
    init_default_scope('mmpose')
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    model.eval()
    batch = pseudo_collate([dataset[0]])
    with torch.no_grad():
        base = model.test_step(batch)[0].pred_instances.stage_keypoints
    batch['data_samples'][0].set_metainfo(dict(
        input_center=np.asarray(batch['data_samples'][0].metainfo['input_center']) + [7., -3.]))
    with torch.no_grad():
        moved = model.test_step(batch)[0].pred_instances.stage_keypoints
    np.testing.assert_allclose(moved - base, np.broadcast_to([7., -3.], base.shape), atol=1e-4)
    model.test_cfg['flip_test'] = False  # the last stage is then the final prediction
    with torch.no_grad():
        out = model.test_step(batch)[0].pred_instances
    np.testing.assert_allclose(out.stage_keypoints[:, -1], out.keypoints, atol=1e-4)
