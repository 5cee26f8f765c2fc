"""The STLD heads' outputs on a fixed input, recorded before they were refactored onto their
mmpose parents' code (HeatmapHead's loss pieces, RegressionHead.predict): the refactoring
must keep every number (losses, accuracy, BatchNorm statistics, decoded keypoints)."""
import torch
from mmengine.structures import InstanceData, PixelData
from mmpose.structures import PoseDataSample
from mmpose.utils import register_all_modules

from mmssl.models.heads import STLDHeatmapHead, STLDTransformerHead
from stld_helpers import single_thread  # noqa: F401

register_all_modules(init_default_scope=True)

# recorded with the heads of commit 506d802, before the refactoring
RECORDED = {
    'hm_shrink/loss_kpt': [0.470324],
    'hm_shrink/loss_kpt_pseudo': [0.146199],
    'hm_shrink/acc_pose': [0.0],
    'hm_shrink/bn_mean': [-9.1e-05, 0.000897, -0.000475],
    'hm_merged/loss_kpt': [0.308262],
    'hm_merged/acc_pose': [0.0],
    'hm/pred': [-4.0, -4.0, 13.0, 7.0, 7.0, 13.0],
    'tf_shrink/loss_kpt': [0.253638],
    'tf_shrink/loss_kpt_pseudo': [0.020553],
    'tf_merged/loss_kpt': [0.359467],
    'tf/pred': [-3.928923, -4.436918, -2.391269, -6.271287, 0.660549, -2.629479],
    'tf/pred_flip': [13.278748, -3.683156, 15.616629, -6.325425, 17.75704, -3.758429],
}


def _samples(sources, k=3, hm=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    out = []
    for src in sources:
        s = PoseDataSample(metainfo=dict(stld_source=src, flip_indices=[2, 1, 0],
                                         input_size=(32, 32)))
        s.gt_fields = PixelData(heatmaps=torch.rand(k, hm, hm, generator=g))
        s.gt_instance_labels = InstanceData(
            keypoint_weights=torch.tensor([[1.0, 0.5, 1.0]]),
            keypoint_labels=torch.rand(1, k, 2, generator=g))
        out.append(s)
    return out


def _hm_head(**kw):
    torch.manual_seed(0)
    head = STLDHeatmapHead(
        in_channels=8, out_channels=3, deconv_out_channels=(8, ), deconv_kernel_sizes=(4, ),
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=dict(type='MSRAHeatmap', input_size=(32, 32), heatmap_size=(8, 8), sigma=1.5),
        **kw)
    return head  # PyTorch's default init: outputs far from zero


def _tf_head(**kw):
    torch.manual_seed(0)
    return STLDTransformerHead(
        in_channels=8, num_keypoints=3, embed_dims=16, num_layers=2, num_heads=2,
        ffn_channels=32, mlp_channels=32,
        decoder=dict(type='RegressionLabel', input_size=(32, 32)), **kw)


def _feats(seed, size=4):
    return (torch.randn(4, 8, size, size, generator=torch.Generator().manual_seed(seed)), )


def golden_outputs() -> dict:
    """Every recorded number, from the current heads."""
    out = {}
    sources = ['labeled', 'pseudo', None, 'pseudo']
    for name, branch in (('hm_shrink', True), ('hm_merged', False)):
        head = _hm_head(pseudo_loss_weight=0.3, shrink_branch=branch).train()
        losses = head.loss(_feats(1), _samples(sources))
        for k, v in losses.items():
            if k != 'pseudo_frac':
                out[f'{name}/{k}'] = v.detach()
        if branch:
            out[f'{name}/bn_mean'] = head.deconv_layers[1].running_mean[:3].clone()
    head = _hm_head().eval()
    with torch.no_grad():
        preds = head.predict(_feats(2), _samples(sources))
    out['hm/pred'] = torch.as_tensor(preds[0].keypoints[0, :3])
    for name, p in (('tf_shrink', 2.4), ('tf_merged', 1.0)):
        head = _tf_head(shrink_p=p, pseudo_loss_weight=0.5).eval()
        losses = head.loss(_feats(3, 2), _samples(sources))
        for k in ('loss_kpt', 'loss_kpt_pseudo'):
            if k in losses:
                out[f'{name}/{k}'] = losses[k].detach()
    head = _tf_head().eval()
    samples = _samples(sources)
    with torch.no_grad():
        out['tf/pred'] = torch.as_tensor(
            head.predict(_feats(4, 2), samples)[1].keypoints).flatten()
        flipped = [_feats(4, 2), (_feats(4, 2)[0].flip(-1), )]
        out['tf/pred_flip'] = torch.as_tensor(
            head.predict(flipped, samples, dict(flip_test=True))[1].keypoints).flatten()
    return out


def test_outputs_are_the_recorded_ones():
    got = golden_outputs()
    assert set(got) == set(RECORDED)
    for key, want in RECORDED.items():
        torch.testing.assert_close(got[key].flatten().double(), torch.tensor(want).double(),
                                   rtol=1e-4, atol=1e-5, msg=key)


def test_heads_use_their_mmpose_parents_code():
    from mmpose.models.heads import HeatmapHead, RegressionHead
    assert STLDTransformerHead.predict is RegressionHead.predict
    assert STLDHeatmapHead.predict is HeatmapHead.predict
    head = _hm_head().eval()
    feats = _feats(5)
    torch.testing.assert_close(head.forward_both(feats)[0], HeatmapHead.forward(head, feats))
