"""Bridge features of real mmpose backbones through forward hooks, and AHO occlusion."""
import pytest
import torch
from mmengine.registry import init_default_scope
from mmpose.registry import MODELS

import mmssl  # noqa: F401
from mmssl.models.augmenters import occlusion_mask, upsample_mask

from adv_helpers import tiny_hourglass_estimator, tiny_resnet_estimator


@pytest.fixture(scope='module')
def two_stack_model():
    init_default_scope('mmpose')
    est = tiny_hourglass_estimator()
    est['backbone']['num_stacks'] = 2
    est['head']['num_stages'] = 2
    torch.manual_seed(0)
    return MODELS.build(dict(type='AdversarialPoseEstimator', estimator=est,
                             augmenter=dict(channels=8)))


def test_auto_bridge_of_stacked_hourglass(two_stack_model):
    model = two_stack_model
    first = ['backbone.hourglass_modules.0.up1', 'backbone.hourglass_modules.0.low2.up1',
             'backbone.hourglass_modules.0.low2.low2.up1']
    assert model.bridge.captured_names == first  # G reads the first hourglass
    assert model.bridge.masked == first + [n.replace('.0.', '.1.', 1) for n in first]
    assert model._bridge_channels == [256, 16, 16]  # 16, 8 and 4 px, finest first
    assert model.augmenter.in_channels == [256, 16, 16]


def test_aho_mask_zeroes_exactly_the_sampled_cells_at_every_resolution(two_stack_model):
    model = two_stack_model.eval()
    named = dict(model.pose.named_modules())
    raw, final, handles = {}, {}, []
    for name in model.bridge.masked:
        handles.append(named[name].register_forward_hook(
            lambda m, i, o, n=name: raw.__setitem__(n, o.clone()), prepend=True))
        handles.append(named[name].register_forward_hook(
            lambda m, i, o, n=name: final.__setitem__(n, o.clone())))
    gen = torch.Generator().manual_seed(0)
    probs = torch.rand(3, 16, generator=gen)
    cells = model.sample_cells(probs, gen)
    assert set(cells.sum(1).tolist()) <= {1, 2}
    masks = occlusion_mask(cells, model.grid)
    try:
        with torch.no_grad():
            model.pose_forward(torch.randn(3, 3, 64, 64), masks)
    finally:
        for h in handles:
            h.remove()
    sizes = set()
    for name in model.bridge.masked:
        out, before = final[name], raw[name]
        h, w = out.shape[-2:]
        sizes.add(h)
        zero = torch.zeros(3, h, w, dtype=torch.bool)
        for b in range(3):  # by hand: cell (r, c) covers rows r*h/4.. and cols c*w/4..
            for cell in cells[b].nonzero()[:, 0].tolist():
                r, c = divmod(cell, 4)
                zero[b, r * h // 4:(r + 1) * h // 4, c * w // 4:(c + 1) * w // 4] = True
        assert (before.abs().sum(1) > 0)[zero].all()  # the zeros come from the mask
        assert (out.abs().sum(1) == 0)[zero].all(), name
        torch.testing.assert_close(out, before * (~zero)[:, None].float(), rtol=0, atol=0)
    assert sizes == {16, 8, 4}
    up = upsample_mask(masks, (16, 16))
    torch.testing.assert_close(up, torch.nn.functional.interpolate(
        masks[:, None], size=(16, 16), mode='nearest')[:, 0])


def test_capture_stops_early_and_leaves_the_network_unchanged(two_stack_model):
    model = two_stack_model.train()
    calls = []
    handle = model.pose.head.register_forward_hook(lambda *a: calls.append(1))
    second = dict(model.pose.named_modules())['backbone.hourglass_modules.1']
    handle2 = second.register_forward_hook(lambda *a: calls.append(2))
    bn = model.pose.backbone.stem[0].bn
    before = bn.running_mean.clone()
    try:
        feats = model.capture_bridge(torch.randn(2, 3, 64, 64))
    finally:
        handle.remove()
        handle2.remove()
    assert calls == []  # neither the second hourglass nor the head ran
    assert [f.shape[-1] for f in feats] == [16, 8, 4]
    assert not any(f.requires_grad for f in feats)
    torch.testing.assert_close(bn.running_mean, before)  # eval mode: BN statistics kept
    assert model.pose.training  # mode restored


def test_resnet_bridge_and_bad_bridges():
    init_default_scope('mmpose')
    est = tiny_resnet_estimator(17, 128)
    model = MODELS.build(dict(type='AdversarialPoseEstimator', estimator=est,
                              augmenter=dict(channels=8)))
    assert model.bridge.captured_names == [f'backbone.layer{i}' for i in range(1, 5)]
    assert model._bridge_channels == [8, 16, 32, 64]
    small = MODELS.build(dict(type='AdversarialPoseEstimator',
                              estimator=tiny_resnet_estimator(17, 64)))
    # 'auto' leaves out layer4, 2x2 at 64 px: below the 4x4 grid
    assert small.bridge.captured_names == [f'backbone.layer{i}' for i in range(1, 4)]
    assert small.bridge.masked == small.bridge.captured_names
    with pytest.raises(ValueError, match='smaller than the'):  # named explicitly: refused
        MODELS.build(dict(type='AdversarialPoseEstimator',
                          estimator=tiny_resnet_estimator(17, 64),
                          bridge=dict(modules=['backbone.layer3', 'backbone.layer4'])))
    with pytest.raises(KeyError, match='backbone.layer9'):
        MODELS.build(dict(type='AdversarialPoseEstimator', estimator=est,
                          bridge=dict(modules=['backbone.layer9'])))
