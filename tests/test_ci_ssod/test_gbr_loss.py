"""GbRCrossEntropyLoss: warm-up, per-RoI weights, branches, checkpoint/resume, box head."""
import pytest
import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmdet.structures.bbox import bbox2roi
from mmengine.registry import init_default_scope

from mmssl.models.detectors import GbRCrossEntropyLoss, jacobi_step


def _batch(seed=0, n=64, num_classes=3):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, num_classes + 1, generator=g)
    labels = torch.randint(0, num_classes + 1, (n, ), generator=g)
    labels[: n // 2] = num_classes  # many background RoIs
    return logits, labels


def _train_steps(loss, steps, seed=0, branch='sup'):
    for i in range(steps):
        logits, labels = _batch(seed + i)
        with loss.branch(branch):
            loss(logits, labels)
        loss.step()


def test_plain_cross_entropy_during_warmup():
    loss = GbRCrossEntropyLoss(3, warmup_iters=5, solver='jacobi')
    loss.class_weights.copy_(torch.tensor([2.0, 3.0, 0.5, 0.7]))  # ignored in warm-up
    logits, labels = _batch()
    expected = F.cross_entropy(logits, labels)
    assert loss(logits, labels).item() == pytest.approx(expected.item(), rel=1e-6)
    _train_steps(loss, 4)
    assert not loss.is_active and loss.num_updates == 4


def test_per_roi_weights_follow_w_beta_over_running_mean():
    loss = GbRCrossEntropyLoss(3, warmup_iters=0, solver='jacobi')
    w = torch.tensor([2.0, 3.0, 0.5, 0.8])
    loss.class_weights.copy_(w)
    loss.weight_norm.copy_(torch.tensor([1.25, 2.0]))
    logits, labels = _batch()
    label_w = torch.rand(len(labels))
    ce = F.cross_entropy(logits, labels, reduction='none')
    for branch, beta, norm in (('sup', 0.5, 1.25), ('unsup', 1.0, 2.0)):
        with loss.branch(branch):
            out = loss(logits, labels, label_w, avg_factor=50.0)
        expected = (ce * label_w * w[labels]**beta / norm).sum() / 50.0
        assert out.item() == pytest.approx(expected.item(), rel=1e-5)
    with loss.branch(None):  # GbR off: plain (label-weighted) cross entropy
        out = loss(logits, labels, label_w, reduction_override='sum')
    assert out.item() == pytest.approx((ce * label_w).sum().item(), rel=1e-5)
    with pytest.raises(KeyError, match='unknown GbR branch'):
        with loss.branch('nope'):
            pass


def test_step_solves_weights_after_warmup_and_keeps_clamps():
    loss = GbRCrossEntropyLoss(3, warmup_iters=3, solver='jacobi', jacobi_damping=1.0)
    _train_steps(loss, 2)
    assert torch.equal(loss.class_weights, torch.ones(4)) and not loss.is_active
    _train_steps(loss, 1, seed=10)
    # the 3rd step ends the warm-up: its matrix is still the running mean of 3 batches and
    # the weights take one Jacobi step from w = 1; the 4th iteration trains with them
    assert loss.is_active
    assert torch.allclose(loss.class_weights,
                          jacobi_step(loss.grad_stats.matrix, torch.ones(4)), atol=1e-6)
    assert not torch.equal(loss.class_weights, torch.ones(4))
    _train_steps(loss, 20, seed=20)
    assert (loss.class_weights >= 1 / 3 - 1e-6).all()
    assert (loss.class_weights[:-1] <= 5 + 1e-6).all() and loss.class_weights[-1] <= 1 + 1e-6


def test_no_statistics_outside_training_or_branch():
    loss = GbRCrossEntropyLoss(3, warmup_iters=0)
    logits, labels = _batch()
    loss.eval()
    loss(logits, labels)
    loss.train()
    with loss.branch(None):
        loss(logits, labels)
    assert not loss.step() and loss.num_updates == 0


@pytest.mark.parametrize('solver', ['jacobi', 'learnable'])
def test_state_dict_resumes_to_the_same_state(solver):
    a = GbRCrossEntropyLoss(3, warmup_iters=2, solver=solver, learnable_lr=0.5)
    _train_steps(a, 6)
    b = GbRCrossEntropyLoss(3, warmup_iters=2, solver=solver, learnable_lr=0.5)
    b.load_state_dict(a.state_dict())
    assert b.num_updates == 6 and torch.equal(a.class_weights, b.class_weights)
    _train_steps(a, 3, seed=50, branch='unsup')
    _train_steps(b, 3, seed=50, branch='unsup')
    for key, value in a.state_dict().items():
        assert torch.allclose(value.float(), b.state_dict()[key].float()), key
    assert not torch.equal(a.class_weights, torch.ones(4))


def test_bad_config_and_input_raise():
    with pytest.raises(ValueError, match='solver'):
        GbRCrossEntropyLoss(3, solver='svd')
    with pytest.raises(ValueError, match='default_branch'):
        GbRCrossEntropyLoss(3, branches=dict(lab=dict(beta=1.0)))
    with pytest.raises(ValueError, match='unknown keys'):
        GbRCrossEntropyLoss(3, branches=dict(sup=dict(gamma=1.0)))
    with pytest.raises(ValueError, match='expects 4 logits'):
        GbRCrossEntropyLoss(3)(torch.zeros(2, 6), torch.zeros(2, dtype=torch.long))


def test_inside_an_mmdet_box_head():
    init_default_scope('mmdet')
    head = MODELS.build(
        dict(
            type='Shared2FCBBoxHead', in_channels=8, fc_out_channels=16, roi_feat_size=7,
            num_classes=3,
            bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0.0] * 4,
                            target_stds=[0.1, 0.1, 0.2, 0.2]),
            loss_cls=dict(type='GbRCrossEntropyLoss', num_classes=3, warmup_iters=0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0)))
    feats = torch.randn(6, 8, 7, 7)
    cls_score, bbox_pred = head(feats)
    rois = bbox2roi([torch.tensor([[0.0, 0.0, 10.0, 10.0]] * 6)])
    labels = torch.tensor([0, 1, 2, 3, 3, 3])
    losses = head.loss(cls_score, bbox_pred, rois, labels, torch.ones(6),
                       torch.zeros(6, 4), torch.zeros(6, 4))
    losses['loss_cls'].backward()
    assert head.fc_cls.weight.grad is not None
    assert head.loss_cls.step() and head.loss_cls.num_updates == 1


def test_logged_gradients_use_the_applied_weights():
    for reweight in (True, False):
        loss = GbRCrossEntropyLoss(3, warmup_iters=1, solver='jacobi', reweight=reweight)
        _train_steps(loss, 3)
        norms = loss.gradient_norms()
        matrix = loss.grad_stats.matrix
        assert torch.allclose(norms['pos'], -torch.diagonal(matrix))
        if reweight:
            w = loss.class_weights
            assert torch.allclose(norms['pos_w'], -torch.diagonal(matrix) * w)
        else:  # weights solved for the logs but not applied: applied gradients = raw
            assert not torch.equal(loss.class_weights, torch.ones(4))
            assert torch.equal(norms['pos_w'], norms['pos'])
            logits, labels = _batch(7)
            with loss.branch('unsup'):
                out = loss(logits, labels)
            assert out.item() == pytest.approx(F.cross_entropy(logits, labels).item(), rel=1e-6)


def test_learnable_solver_weights_keep_the_budget_and_bounds():
    """After every step the loss's class weights sum to n + 1 with the foreground in
    [1/3, 5] and the background in [1/3, 1], also on steps where the softmax weights do not."""
    loss = GbRCrossEntropyLoss(3, warmup_iters=0, solver='learnable', learnable_lr=20.0,
                               learnable_momentum=0.0)
    infeasible = 0
    for i in range(40):
        _train_steps(loss, 1, seed=i)
        soft = loss.learnable.weights()
        infeasible += bool((soft[:-1] < 1 / 3).any() or (soft[:-1] > 5).any() or
                           soft[-1] > 1 or soft[-1] < 1 / 3)
        w = loss.class_weights
        assert float(w.sum()) == pytest.approx(4.0, abs=1e-5)
        assert (w[:-1] >= 1 / 3 - 1e-6).all() and (w[:-1] <= 5 + 1e-6).all()
        assert 1 / 3 - 1e-6 <= float(w[-1]) <= 1 + 1e-6
    assert infeasible > 0  # the projection was needed on some steps
