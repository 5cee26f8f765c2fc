"""STLD heads: source-aware losses (main vs shrink output), the per-query map, overfitting."""
import copy

import torch
from mmengine.dataset import pseudo_collate
from mmengine.structures import InstanceData, PixelData
from mmpose.models.heads import HeatmapHead
from mmpose.registry import DATASETS, MODELS
from mmpose.structures import PoseDataSample
from mmpose.utils import register_all_modules

from mmssl.models.heads import PerQueryLinear, STLDHeatmapHead, STLDTransformerHead
from mmssl.models.losses import LpShrinkLoss
from stld_helpers import make_face_data, single_thread, tiny_cfg  # noqa: F401

register_all_modules(init_default_scope=True)
MSE = dict(type='KeypointMSELoss', use_target_weight=True)


def _samples(sources, k=3, hm=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    out = []
    for src in sources:
        s = PoseDataSample(metainfo=dict(stld_source=src) if src else {})
        s.gt_fields = PixelData(heatmaps=torch.rand(k, hm, hm, generator=g))
        s.gt_instance_labels = InstanceData(
            keypoint_weights=torch.tensor([[1.0, 0.0, 1.0]])[:, :k],
            keypoint_labels=torch.rand(1, k, 2, generator=g))
        out.append(s)
    return out


def _hm_head(**kw):
    torch.manual_seed(0)
    head = STLDHeatmapHead(in_channels=8, out_channels=3, deconv_out_channels=(8, ),
                           deconv_kernel_sizes=(4, ), loss=MSE, **kw)
    head.init_weights()
    return head


def test_heatmap_head_routes_pseudo_samples_to_the_shrink_output():
    head = _hm_head(pseudo_loss_weight=0.3, shrink_branch=True)
    feats = (torch.randn(4, 8, 4, 4, generator=torch.Generator().manual_seed(1)), )
    samples = _samples(['labeled', None, 'pseudo', 'pseudo'])
    losses = head.loss(feats, samples, dict(compute_acc=False))
    main, shrink = head.forward_both(feats)
    gt = torch.stack([s.gt_fields.heatmaps for s in samples])
    w = torch.cat([s.gt_instance_labels.keypoint_weights for s in samples])
    mse = MODELS.build(MSE)
    torch.testing.assert_close(losses['loss_kpt'], mse(main[:2], gt[:2], w[:2]))
    torch.testing.assert_close(losses['loss_kpt_pseudo'], 0.3 * mse(shrink[2:], gt[2:], w[2:]))
    assert losses['pseudo_frac'] == 0.5

    def grads(targets):
        head.zero_grad()
        for s, t in zip(samples, targets):
            s.gt_fields.heatmaps = t
        out = head.loss(feats, samples, dict(compute_acc=False))
        (out['loss_kpt'] + out['loss_kpt_pseudo']).backward()
        return head.final_layer.weight.grad.clone(), head.shrink_layer.weight.grad.clone()

    base = [s.gt_fields.heatmaps.clone() for s in samples]
    main_g, shrink_g = grads(base)
    changed = [t if i < 2 else torch.zeros_like(t) for i, t in enumerate(base)]
    main_g2, shrink_g2 = grads(changed)  # only pseudo targets changed
    torch.testing.assert_close(main_g, main_g2)  # main output never sees pseudo samples
    assert not torch.allclose(shrink_g, shrink_g2)


def test_heatmap_head_merged_output_weights_pseudo_by_lambda():
    head = _hm_head(pseudo_loss_weight=0.25, shrink_branch=False)
    feats = (torch.randn(4, 8, 4, 4, generator=torch.Generator().manual_seed(2)), )
    samples = _samples(['labeled', 'labeled', 'pseudo', 'pseudo'])
    losses = head.loss(feats, samples, dict(compute_acc=False))
    main, _ = head.forward_both(feats)
    gt = torch.stack([s.gt_fields.heatmaps for s in samples])
    w = torch.cat([s.gt_instance_labels.keypoint_weights for s in samples])
    w = w * torch.tensor([1, 1, 0.25, 0.25])[:, None]
    torch.testing.assert_close(losses['loss_kpt'], MODELS.build(MSE)(main, gt, w))
    assert 'loss_kpt_pseudo' not in losses
    losses['loss_kpt'].backward()  # the unused shrink layer stays in the graph (DDP)
    assert head.shrink_layer.weight.grad is not None
    assert torch.count_nonzero(head.shrink_layer.weight.grad) == 0


def test_untagged_heatmap_head_equals_mmpose_heatmap_head():
    head = _hm_head()
    plain = HeatmapHead(in_channels=8, out_channels=3, deconv_out_channels=(8, ),
                        deconv_kernel_sizes=(4, ), loss=MSE)
    plain.load_state_dict(head.state_dict(), strict=False)
    feats = (torch.randn(2, 8, 4, 4), )
    samples = _samples([None, None])
    torch.testing.assert_close(head.loss(feats, samples)['loss_kpt'],
                               plain.loss(feats, samples)['loss_kpt'])
    torch.testing.assert_close(head.forward(feats), plain.forward(feats))


def test_per_query_linear_is_a_grouped_1x1_conv():
    n, d = 5, 6
    layer = PerQueryLinear(n, d)
    conv = torch.nn.Conv2d(n * d, n * d, 1, groups=n)
    with torch.no_grad():  # conv weight (out = n*d, in/groups = d): block q is W[q].T
        conv.weight.copy_(layer.weight.transpose(1, 2).reshape(n * d, d, 1, 1))
        conv.bias.copy_(layer.bias.reshape(-1))
    x = torch.randn(3, n, d)
    expected = conv(x.reshape(3, n * d, 1, 1)).reshape(3, n, d)
    torch.testing.assert_close(layer(x), expected)


def _tf_head(**kw):
    torch.manual_seed(0)
    return STLDTransformerHead(
        in_channels=8, num_keypoints=3, embed_dims=16, num_layers=2, num_heads=2,
        ffn_channels=32, mlp_channels=32,
        decoder=dict(type='RegressionLabel', input_size=(64, 64)), **kw)


def test_transformer_head_losses_and_prediction():
    head = _tf_head(shrink_p=2.4, pseudo_loss_weight=0.5).eval()  # eval: no dropout
    assert head.shrink_branch
    feats = (torch.randn(4, 8, 2, 2, generator=torch.Generator().manual_seed(3)), )
    samples = _samples(['labeled', 'pseudo', 'labeled', 'pseudo'])
    losses = head.loss(feats, samples)
    main, shrink = head.forward_both(feats)
    assert main.shape == shrink.shape == (4, 3, 2)
    y = torch.cat([s.gt_instance_labels.keypoint_labels for s in samples])
    w = torch.cat([s.gt_instance_labels.keypoint_weights for s in samples])
    lab = torch.tensor([1., 0, 1, 0])[:, None]
    torch.testing.assert_close(losses['loss_kpt'], LpShrinkLoss(p=1)(main, y, w * lab))
    torch.testing.assert_close(losses['loss_kpt_pseudo'],
                               0.5 * LpShrinkLoss(p=2.4)(shrink, y, w * (1 - lab)))
    preds = head.predict(feats, samples, dict(flip_test=False))
    assert len(preds) == 4 and preds[0].keypoints.shape == (1, 3, 2)
    torch.testing.assert_close(torch.as_tensor(preds[1].keypoints[0]).float(), main[1] * 64)
    merged = _tf_head(shrink_p=1.0, pseudo_loss_weight=0.5)
    assert not merged.shrink_branch  # p = 1: the shrink output merges into the main one


def test_transformer_head_overfits_a_handful_of_samples(tmp_path):
    """A real TopdownPoseEstimator (tiny ResNet + TF head) fits 4 faces almost exactly."""
    data = make_face_data(tmp_path, num_train=5, num_labeled=4, num_test=1)
    cfg = tiny_cfg(data, tmp_path / 'work', head='tf')
    cfg.model.head.update(embed_dims=32, num_layers=2, num_heads=4, ffn_channels=64,
                          mlp_channels=64, dropout=0.0)
    ds_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    ds_cfg.pipeline = [t for t in ds_cfg.pipeline
                       if t['type'] not in ('RandomFlip', 'RandomBBoxTransform')]
    dataset = DATASETS.build(ds_cfg)
    batch = pseudo_collate([dataset[i] for i in range(len(dataset))])
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    optim = torch.optim.Adam(model.parameters(), lr=2e-3)
    data = model.data_preprocessor(batch, training=True)
    model.train()
    first = None
    for _ in range(250):
        loss = model(**data, mode='loss')['loss_kpt']
        first = loss.item() if first is None else first
        optim.zero_grad()
        loss.backward()
        optim.step()
    assert first > 0.05
    assert loss.item() < 0.1 * first, (first, loss.item())
    model.eval()
    with torch.no_grad():
        coords = model.head.forward(model.extract_feat(data['inputs']))
    labels = torch.cat([s.gt_instance_labels.keypoint_labels for s in data['data_samples']])
    err_px = ((coords - labels).abs() * 64).mean().item()
    assert err_px < 1.5, err_px  # mean error under 1.5 px on 64 px crops
