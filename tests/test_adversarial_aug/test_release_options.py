"""The release's options: difficulty = 1 - PCKh (against mmpose's decoder and PCK) and whole
batches alternating between random and adversarial (parity, resume, shares)."""
import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.registry import init_default_scope
from mmpose.codecs import MSRAHeatmap
from mmpose.evaluation.functional import keypoint_pck_accuracy
from mmpose.registry import MODELS

import mmssl  # noqa: F401
from mmssl.models.augmenters import (PCKhDifficulty, build_difficulty, decode_heatmaps,
                                     scale_rotation_matrices)

from adv_helpers import BRIDGE, fake_samples, tiny_resnet_estimator

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


def _set_iter(it):
    MessageHub.get_current_instance().update_info('iter', it)


def test_batched_decoder_is_mmpose_msra_decode():
    rng = np.random.RandomState(0)
    heatmaps = rng.rand(4, 6, 16, 12).astype(np.float32)
    heatmaps[0, 0] = 0  # no maximum > 0: mmpose gives -1 (times the stride)
    heatmaps[1, 1, 0, 5] = 9  # on the border: no refinement along y
    heatmaps[2, 2, 7, 11] = 9  # last column: no refinement along x
    codec = MSRAHeatmap(input_size=(48, 64), heatmap_size=(12, 16), sigma=2)
    ours = decode_heatmaps(torch.from_numpy(heatmaps), (4., 4.)).numpy()
    for b in range(4):
        theirs, _ = codec.decode(heatmaps[b])
        np.testing.assert_allclose(ours[b], theirs[0], atol=1e-5)


def test_pckh_difficulty_is_one_minus_mmpose_pckh_on_the_same_predictions():
    rng = np.random.RandomState(1)
    b, k, size = 6, 5, 64
    gt = rng.uniform(10, 54, size=(b, k, 2)).astype(np.float32)
    heat = np.zeros((b, k, 16, 16), np.float32)
    noisy = np.clip(gt / 4 + rng.normal(0, 1.5, size=gt.shape), 0, 15).round().astype(int)
    for i in range(b):
        for j in range(k):
            heat[i, j, noisy[i, j, 1], noisy[i, j, 0]] = 1.
    mats = scale_rotation_matrices(torch.tensor([1., 1.3, .8, 1., 1.2, 1.]),
                                   torch.tensor([0., 20., -30., 45., 0., 0.]), (size, size))
    weights = torch.from_numpy((rng.rand(b, k) > 0.2).astype(np.float32))
    weights[5] = 0  # nothing to count: difficulty 1 (the release: accuracy 0)
    head = torch.from_numpy(rng.uniform(6, 14, size=b).astype(np.float32))
    diff = PCKhDifficulty(thr=0.5, norm='head_size')(
        torch.from_numpy(heat), mats, weights, torch.from_numpy(gt), head, (4., 4.))
    # mmpose, one sample at a time: decode, back to the standard crop, keypoint_pck_accuracy
    codec = MSRAHeatmap(input_size=(size, size), heatmap_size=(16, 16), sigma=2)
    inv = np.linalg.inv(mats.double().numpy())
    for i in range(b):
        pred, _ = codec.decode(heat[i])
        pred = pred[0] @ inv[i][:2, :2].T + inv[i][:2, 2]
        norm = np.full((1, 2), float(head[i]), np.float32)
        _, acc, cnt = keypoint_pck_accuracy(pred[None], gt[i][None],
                                            weights[i].numpy()[None] > 0, 0.5, norm)
        expected = 1. - acc if cnt else 1.
        assert float(diff[i]) == pytest.approx(expected, abs=1e-6), i
    assert float(diff[5]) == 1.
    assert 0 < float(diff[:5].mean()) < 1  # the noise makes some joints miss


def test_pckh_norm_from_joints_and_selected_joints():
    kpts = torch.tensor([[[10., 10.], [10., 20.], [40., 40.]]])
    weights = torch.ones(1, 3)
    assert PCKhDifficulty(norm=(0, 1)).norm_lengths([], kpts, weights, (64, 64)).item() == 10.
    weights[0, 1] = 0  # an unlabelled head joint: no length, nothing counts
    assert PCKhDifficulty(norm=(0, 1)).norm_lengths([], kpts, weights, (64, 64)).item() == 0.
    heat = torch.zeros(1, 3, 16, 16)
    heat[0, 0, 2, 2] = heat[0, 1, 5, 2] = heat[0, 2, 0, 0] = 1.  # joint 2 far off
    eye = torch.eye(3)[None]
    args = (heat, eye, torch.ones(1, 3), kpts, torch.tensor([10.]), (4., 4.))
    assert float(PCKhDifficulty(norm=(0, 1))(*args)) == pytest.approx(1 / 3)
    assert float(PCKhDifficulty(norm=(0, 1), joints=(0, 1))(*args)) == 0.
    with pytest.raises(ValueError, match="'head_size' or a pair"):
        build_difficulty(dict(type='pckh', norm='torso'))
    with pytest.raises(ValueError, match="difficulty must be 'mse', 'pckh'"):
        build_difficulty('loss')
    assert build_difficulty('mse') is None


def test_joint_step_ranks_by_pckh_when_asked():
    model = _model(stage='joint', split=(1, 1, 1), difficulty=dict(type='pckh', norm=(0, 1)))
    images, samples = _batch(6)
    _set_iter(0)
    seen = []
    real = model.sample_difficulty

    def spy(out, rows, batch):
        d = real(out, rows, batch)
        seen.append(d)
        return d
    model.sample_difficulty = spy
    losses = model.loss(images, samples)
    assert {'loss_asr', 'loss_aho', 'asr_harder', 'aho_harder'} <= set(losses)
    d = seen[0]  # rows: 2 random, 2 ASR, 2 ASR refs, 2 AHO, 2 AHO refs
    assert d.shape == (10, ) and bool(((d >= 0) & (d <= 1)).all())
    assert float(losses['asr_harder']) == float((d[2:4] > d[4:6]).float().mean())
    assert float(losses['aho_harder']) == float((d[6:8] > d[8:10]).float().mean())
    # the sweep uses the same difficulty
    model.stage = 'augmenter'
    p_s, p_r = model.difficulty_sweep(images, model.gather_targets(samples, 'cpu'), 'grid')
    assert p_s.shape == (6, 3) and torch.allclose(p_s.sum(1), torch.ones(6))


def test_head_size_difficulty_needs_head_sizes():
    model = _model(difficulty='pckh')
    images, samples = _batch(3)
    with pytest.raises(KeyError, match='head_size and bbox_scales'):
        model.loss(images, samples)
    for s in samples:
        s.gt_instances.head_size = np.array([[20.]])
        s.gt_instances.bbox_scales = np.array([[128., 128.]])
    batch = model.gather_targets(samples, 'cpu')
    assert torch.allclose(batch['norm'], torch.full((3, ), 10.))  # 20 px x 64 / 128


def test_alternate_batches_are_whole_and_follow_the_global_iteration():
    model = _model(stage='joint', split=(1, 1, 1), batch_mode='alternate')
    images, samples = _batch(4)
    kinds = []
    for it in range(5):
        _set_iter(it)
        kinds.append(frozenset(model.loss(images, samples)))
    regular, agent = frozenset({'loss_kpt'}), frozenset(
        {'loss_kpt', 'loss_asr', 'loss_aho', 'asr_harder', 'aho_harder'})
    assert kinds == [regular, agent, regular, agent, regular]
    assert model.shares(4) == (0, 2, 2)  # the agent batch: ASR and AHO, no random share
    asr_only = _model(stage='joint', split=(1, 1, 0), batch_mode='alternate')
    assert asr_only.shares(4) == (0, 4, 0)
    # a run resumed at iteration 7 continues on an agent batch, at 8 on a regular one
    _set_iter(7)
    assert model.adversarial_iteration()
    _set_iter(8)
    assert not model.adversarial_iteration()
    split = _model(stage='joint', split=(1, 1, 1))
    assert split.adversarial_iteration() and split.shares(6) == (2, 2, 2)
    with pytest.raises(ValueError, match='batch_mode must be one of'):
        _model(batch_mode='interleave')
    with pytest.raises(ValueError, match='needs an adversarial share'):
        _model(batch_mode='alternate', split=(1, 0, 0))


def test_alternate_mode_trains_through_the_runner_and_resumes_on_parity(synthetic_body,
                                                                        tmp_path):
    from mmengine.runner import Runner

    from adv_helpers import synthetic_cfg

    class Kinds:
        def __init__(self):
            self.seen = []

    def cfg(work, iters, resume=False):
        c = synthetic_cfg('3-asr-aho', synthetic_body, tmp_path / work, iters=iters)
        c.model.batch_mode = 'alternate'
        c.custom_hooks, c.resume = [], resume
        return c

    def run(c):
        runner = Runner.from_cfg(c)
        kinds = Kinds()
        real = runner.model.loss

        def loss(inputs, data_samples):
            out = real(inputs, data_samples)
            kinds.seen.append((runner.iter, 'loss_asr' in out))
            return out
        runner.model.loss = loss
        runner.train()
        return kinds.seen
    assert run(cfg('a', 1)) == [(0, False)]
    assert run(cfg('a', 3, resume=True)) == [(1, True), (2, False)]


def test_random_plain_share_trains_the_last_images_on_the_plain_crop(monkeypatch):
    """The control of the synthetic study: a random baseline whose last third trains on the
    plain crop (as the joint step's AHO share does); the rest stays randomly warped."""
    model = _model(stage='pose', random_plain_share=1 / 3)
    images, samples = _batch(6)
    seen = {}

    def record(inputs, masks=None):
        seen['inputs'] = inputs.detach().clone()
        return original(inputs, masks)

    original = model.pose_forward
    monkeypatch.setattr(model, 'pose_forward', record)
    batch = model.gather_targets(samples, images.device)
    monkeypatch.setattr(model, 'head_loss', lambda out, heatmaps, weights: (
        seen.__setitem__('heatmaps', heatmaps) or out.sum() * 0))
    model.loss_random(images, batch)
    assert model.plain_count(6) == 2 and seen['inputs'].shape[0] == 6
    torch.testing.assert_close(seen['inputs'][4:], images[4:])  # plain crops, untouched
    torch.testing.assert_close(seen['heatmaps'][4:], batch['heatmaps'][4:])
    for i in range(4):  # warped: neither the image nor its target is the plain one
        assert not torch.allclose(seen['inputs'][i], images[i])
    assert not torch.allclose(seen['heatmaps'][:4], batch['heatmaps'][:4])
    # the paper's baseline warps everything, and the share is validated
    assert _model(stage='pose').plain_count(6) == 0
    with pytest.raises(ValueError, match='random_plain_share must be in'):
        _model(stage='pose', random_plain_share=1.)
