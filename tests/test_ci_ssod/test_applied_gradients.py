"""The applied gradients logged by GbR equal autograd's gradients of the loss it returns."""
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures.bbox import bbox2roi
from mmengine.registry import init_default_scope

from mmssl.models.detectors import GbRCrossEntropyLoss
from mmssl.models.detectors.applied_gradients import AppliedGradientMeter, applied_gradients


def _autograd_pos_neg(out: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor):
    """Split ``d out / d logits`` into the target-class part and the other classes' part."""
    grad, = torch.autograd.grad(out, logits)
    num = logits.size(1)
    target = torch.nn.functional.one_hot(labels, num).bool()
    pos = torch.zeros(num).index_add_(0, labels, -grad[target])
    neg = (grad * ~target).sum(dim=0)
    return pos, neg


def _active_loss(**kwargs):
    loss = GbRCrossEntropyLoss(3, warmup_iters=0, solver='jacobi', **kwargs)
    loss.class_weights.copy_(torch.tensor([2.0, 3.0, 0.5, 0.8]))
    loss.weight_norm.copy_(torch.tensor([1.25, 2.0]))
    loss.grad_stats.num_updates.fill_(1)  # past warm-up: the weights are applied
    return loss


@pytest.mark.parametrize('reduction,avg_factor', [('mean', 37.0), ('mean', None),
                                                  ('sum', None)])
def test_logged_applied_gradients_equal_autograd(reduction, avg_factor):
    loss = _active_loss(loss_weight=1.5)
    g = torch.Generator().manual_seed(0)
    expected = {}
    for branch, n in (('sup', 48), ('unsup', 80)):
        logits = torch.randn(n, 4, generator=g, requires_grad=True)
        labels = torch.randint(0, 4, (n, ), generator=g)
        label_w = torch.rand(n, generator=g)  # Soft Teacher: background scores
        with loss.branch(branch):
            out = loss(logits, labels, label_w, avg_factor=avg_factor,
                       reduction_override=reduction)
        expected[branch] = _autograd_pos_neg(out, logits, labels)
    assert loss.step()
    norms = loss.gradient_norms()
    for branch, (pos, neg) in expected.items():
        torch.testing.assert_close(norms[f'pos_app_{branch}'], pos)
        torch.testing.assert_close(norms[f'neg_app_{branch}'], neg)
        torch.testing.assert_close(norms[f'res_app_{branch}'], (pos - neg) / (pos + neg))
    scales = dict(sup=1.0, unsup=4.0)  # default grad_scale: the unlabeled loss weight
    for key, index in (('pos_app', 0), ('neg_app', 1)):
        torch.testing.assert_close(
            norms[key], sum(scales[b] * expected[b][index] for b in expected))
    # the solver's fixed point is another quantity: balanced by construction, not applied
    assert not torch.allclose(norms['pos_w'], norms['pos_app'])


def test_applied_gradients_in_an_mmdet_box_head_and_outside_branches():
    """Through Shared2FCBBoxHead.loss (its avg_factor), with GbR off in branch None."""
    init_default_scope('mmdet')
    head = MODELS.build(
        dict(type='Shared2FCBBoxHead', in_channels=8, fc_out_channels=16, roi_feat_size=7,
             num_classes=3,
             bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0.0] * 4,
                             target_stds=[0.1, 0.1, 0.2, 0.2]),
             loss_cls=dict(type='GbRCrossEntropyLoss', num_classes=3, warmup_iters=0,
                           solver='jacobi'),
             loss_bbox=dict(type='L1Loss', loss_weight=1.0)))
    gbr = head.loss_cls
    gbr.class_weights.copy_(torch.tensor([2.0, 3.0, 0.5, 0.8]))
    gbr.grad_stats.num_updates.fill_(1)
    torch.manual_seed(0)
    feats = torch.randn(10, 8, 7, 7)
    cls_score, bbox_pred = head(feats)
    cls_score.retain_grad()
    rois = bbox2roi([torch.tensor([[0.0, 0.0, 10.0, 10.0]] * 10)])
    labels = torch.tensor([0, 1, 2, 3, 3, 3, 0, 3, 1, 3])
    label_w = torch.tensor([1.0, 1.0, 1.0, 0.3, 0.9, 0.0, 1.0, 0.5, 1.0, 0.7])
    with gbr.branch('unsup'):
        losses = head.loss(cls_score, bbox_pred, rois, labels, label_w,
                           torch.zeros(10, 4), torch.zeros(10, 4))
    with gbr.branch(None):  # not back-propagated here, not recorded
        head.loss(cls_score, bbox_pred, rois, labels, label_w, torch.zeros(10, 4),
                  torch.zeros(10, 4))
    pos, neg = _autograd_pos_neg(losses['loss_cls'], cls_score, labels)
    gbr.step()
    norms = gbr.gradient_norms()
    torch.testing.assert_close(norms['pos_app_unsup'], pos)
    torch.testing.assert_close(norms['neg_app_unsup'], neg)
    assert torch.equal(norms['pos_app_sup'], torch.zeros(4))


def test_meter_running_mean_then_ema_and_residual():
    meter = AppliedGradientMeter(3, 1, warmup_iters=2, momentum=0.5)
    logits, labels = torch.randn(6, 3), torch.tensor([0, 1, 2, 2, 1, 0])
    batches = []
    for scale in (1.0, 3.0, 5.0):
        meter.add(0, logits, labels, torch.full((6, ), scale))
        batches.append(meter.step()[0])
    torch.testing.assert_close(batches[1], 3 * batches[0])
    expected = 0.5 * (batches[0] + batches[1]) / 2 + 0.5 * batches[2]
    torch.testing.assert_close(meter.matrix[0], expected)
    assert meter.step() is None and int(meter.num_updates) == 3  # nothing recorded
    pos, neg, res = applied_gradients(torch.zeros(3, 3))
    assert torch.equal(res, torch.zeros(3))
