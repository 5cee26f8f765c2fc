"""AdversarialPoseEstimator on real mmpose estimators: stage losses, gradient isolation, the
pre-training targets against a hand computation, and input checks."""
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmpose.codecs import MSRAHeatmap
from mmpose.registry import MODELS

import mmssl  # noqa: F401
from mmssl.models.augmenters import scale_rotation_matrices
from mmssl.models.semi_pose.batch_augment import apply_to_points, warp_tensor

from adv_helpers import BRIDGE, fake_samples, tiny_hourglass_estimator, tiny_resnet_estimator

BINS = dict(scale_bins=dict(num=3, low=-0.5, high=0.5, sigma=0., log2=True),
            rotation_bins=dict(num=2, low=-30., high=30., sigma=0.))


def _model(**kwargs):
    init_default_scope('mmpose')
    torch.manual_seed(0)
    cfg = dict(type='AdversarialPoseEstimator', estimator=tiny_resnet_estimator(5),
               augmenter=dict(channels=8), bridge=BRIDGE, **BINS)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def _batch(b, seed=0):
    rng = np.random.RandomState(seed)
    kpts = rng.uniform(12, 52, size=(b, 5, 2))
    images = torch.from_numpy(rng.randn(b, 3, 64, 64).astype(np.float32))
    return images, fake_samples(kpts, 64, sigma=1.)


def test_joint_losses_and_gradient_isolation():
    model = _model(stage='joint', split=(1, 1, 1)).train()
    images, samples = _batch(6)
    losses = model.loss(images, samples)
    assert {'loss_kpt', 'loss_asr', 'loss_aho', 'asr_harder', 'aho_harder'} <= set(losses)
    d_params = [p for p in model.pose.parameters() if p.requires_grad]
    g_params = [p for p in model.augmenter.parameters() if p.requires_grad]
    assert len(g_params) == len(list(model.augmenter.parameters()))  # both heads train
    d_from_g = torch.autograd.grad(losses['loss_asr'] + losses['loss_aho'], d_params,
                                   retain_graph=True, allow_unused=True)
    assert all(g is None for g in d_from_g)  # G's loss never reaches D
    g_from_d = torch.autograd.grad(losses['loss_kpt'], g_params, retain_graph=True,
                                   allow_unused=True)
    assert all(g is None for g in g_from_d)  # D's loss never reaches G
    d_grads = torch.autograd.grad(losses['loss_kpt'], d_params, retain_graph=True,
                                  allow_unused=True)
    assert sum(float(g.abs().sum()) for g in d_grads if g is not None) > 0
    for key, head in (('loss_asr', model.augmenter.fc_rotation.weight),
                      ('loss_aho', model.augmenter.occlusion.weight)):
        grad, = torch.autograd.grad(losses[key], [head], retain_graph=True)
        assert grad.abs().sum() > 0, key


def test_sweep_targets_match_a_hand_computation():
    model = _model(stage='augmenter')
    images, samples = _batch(3, seed=1)
    batch = model.gather_targets(samples, 'cpu')
    codec = MSRAHeatmap(input_size=(64, 64), heatmap_size=(16, 16), sigma=1.)
    model.eval()
    by_hand = np.zeros((3, 3, 2))
    for b in range(3):  # one image, one bin pair, one forward pass at a time
        for i, s in enumerate([-0.5, 0., 0.5]):
            for j, r in enumerate([-30., 30.]):
                mat = scale_rotation_matrices(torch.tensor([2. ** s]), torch.tensor([r]),
                                              (64, 64))
                img = warp_tensor(images[b:b + 1], mat)
                kpts = apply_to_points(mat, batch['keypoints'][b:b + 1]).numpy()
                enc = codec.encode(kpts, np.ones((1, 5), np.float32))
                with torch.no_grad():
                    out = model.pose(img, None, mode='tensor')[0].numpy()
                w = enc['keypoint_weights'][0][:, None, None]
                by_hand[b, i, j] = ((out - enc['heatmaps']) ** 2 * w).mean()
    model.train()
    p_s, p_r = model.difficulty_sweep(images, batch, 'grid')
    np.testing.assert_allclose(p_s.numpy(), by_hand.sum(2) / by_hand.sum((1, 2))[:, None],
                               rtol=1e-4)
    np.testing.assert_allclose(p_r.numpy(), by_hand.sum(1) / by_hand.sum((1, 2))[:, None],
                               rtol=1e-4)
    assert model.pose.training is False  # frozen D stays in eval mode in this stage
    losses = model.loss(images, samples)
    assert set(losses) == {'loss_asr', 'loss_aho'}
    assert float(model.aho_votes.sum()) == 15  # 3 images x 5 joints voted (dataset mode)


def test_stages_freeze_what_they_do_not_train():
    pose_stage = _model(stage='pose')
    assert not any(p.requires_grad for p in pose_stage.augmenter.parameters())
    images, samples = _batch(4)
    assert set(pose_stage.loss(images, samples)) == {'loss_kpt'}
    g_stage = _model(stage='augmenter')
    assert not any(p.requires_grad for p in g_stage.pose.parameters())
    aho_only = _model(stage='joint', split=(1, 0, 1))
    assert not aho_only.augmenter.fc_scale.weight.requires_grad
    assert aho_only.augmenter.occlusion.weight.requires_grad
    assert aho_only.shares(6) == (3, 0, 3)
    assert set(aho_only.loss(images, samples)) == {'loss_kpt', 'loss_aho', 'aho_harder'}
    both = _model(split=(1, 1, 1))
    assert both.shares(6) == (2, 2, 2) and both.shares(7) == (3, 2, 2)
    assert both.shares(2) == (0, 1, 1)
    with pytest.raises(ValueError, match='cannot hold the shares'):
        both.shares(1)


def test_bad_inputs_are_refused_with_clear_errors():
    model = _model()
    images, samples = _batch(3)
    for s in samples:
        del s.gt_instances.transformed_keypoints
    with pytest.raises(KeyError, match='pack_transformed=True'):
        model.loss(images, samples)
    for kwargs, match in ((dict(stage='gan'), 'stage must be one of'),
                          (dict(split=(1, 1)), 'split must be 3'),
                          (dict(num_cells=(0, 2)), 'num_cells'),
                          (dict(augmenter=dict(channels=8, grid=(2, 2))), 'disagrees')):
        with pytest.raises(ValueError, match=match):
            _model(**kwargs)


def test_plain_estimator_checkpoint_loads_into_d():
    model = _model(estimator=tiny_hourglass_estimator(5), bridge='auto')
    plain = MODELS.build(tiny_hourglass_estimator(5))
    g_before = model.augmenter.fc_scale.weight.clone()
    missing, unexpected = model.load_state_dict(plain.state_dict(), strict=True)
    assert not missing and not unexpected
    torch.testing.assert_close(model.pose.head.multi_final_layers[0].weight,
                               plain.head.multi_final_layers[0].weight)
    torch.testing.assert_close(model.augmenter.fc_scale.weight, g_before)
