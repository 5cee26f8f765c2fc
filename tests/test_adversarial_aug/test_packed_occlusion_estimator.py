"""PackedOcclusionEstimator: AHO masks packed by the pipeline reach every bridge feature in
the training pass (as the batch-tensor AHO applies them), never at prediction."""
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmpose.registry import MODELS

import mmssl  # noqa: F401  (registration)

from adv_helpers import BRIDGE, fake_samples, tiny_resnet_estimator


def _build(**kw):
    init_default_scope('mmpose')
    cfg = tiny_resnet_estimator(17, 64)
    cfg.update(type='PackedOcclusionEstimator', bridge=BRIDGE, **kw)
    return MODELS.build(cfg)


def _samples(masks):
    rng = np.random.default_rng(0)
    samples = fake_samples(rng.uniform(8, 56, (len(masks), 17, 2)))
    for d, m in zip(samples, masks):
        d.set_metainfo(dict(input_center=np.array([32., 32.]), input_scale=np.array([64., 64.]),
                            input_size=(64, 64)))
        d.gt_instances.bboxes = np.array([[0., 0., 64., 64.]], np.float32)
        d.gt_instances.bbox_scores = np.ones(1, np.float32)
        if m is not None:
            d.set_metainfo(dict(occlusion_mask=m))
    return samples


def test_packed_masks_reach_every_bridge_feature_in_loss():
    torch.manual_seed(0)
    model = _build()
    mask = np.ones((4, 4), np.float32)
    mask[1, 2] = 0
    seen = {}
    for name in BRIDGE['modules']:
        dict(model.named_modules())[name].register_forward_hook(
            lambda m, i, o, n=name: seen.__setitem__(n, o.detach()))
    inputs = torch.rand(2, 3, 64, 64)
    samples = _samples([mask, None])
    loss = model.loss(inputs, samples)['loss_kpt']
    for name, feat in seen.items():  # the hooks' output: occluded cell is 0 in sample 0
        h, w = feat.shape[-2:]
        cell = feat[0, :, h // 4:h // 2, w // 2:3 * w // 4]
        assert torch.all(cell == 0), name
    # the same loss as the batch-tensor AHO path (explicit masks in the bridge hooks)
    masks = torch.ones(2, 4, 4)
    masks[0] = torch.from_numpy(mask)
    with model.bridge.masking(masks):
        ref = super(type(model), model).loss(inputs, samples)['loss_kpt']
    assert torch.allclose(loss, ref)
    plain = super(type(model), model).loss(inputs, samples)['loss_kpt']
    assert not torch.allclose(loss, plain)


def test_prediction_is_not_masked_and_wrong_grid_is_named():
    model = _build().eval()
    mask = np.zeros((4, 4), np.float32)
    mask[0, 0] = 1
    inputs = torch.rand(1, 3, 64, 64)
    seen = []
    model.backbone.layer1.register_forward_hook(lambda m, i, o: seen.append(o.detach()))
    with torch.no_grad():
        b = model.predict(inputs, _samples([mask]))
        model(inputs, None, mode='tensor')
    assert b[0].pred_instances.keypoints.shape == (1, 17, 2)
    assert torch.equal(seen[0], seen[1])  # the packed mask played no part
    with pytest.raises(ValueError, match='4x4 grid'):
        model.loss(inputs, _samples([np.ones((2, 2), np.float32)]))
