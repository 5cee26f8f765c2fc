"""The Lp shrink loss and its gradient against their closed forms (STLD Eq. 10)."""
import pytest
import torch

from mmssl.models.losses import LpShrinkLoss, lp_shrink_loss
from stld_helpers import single_thread  # noqa: F401


@pytest.mark.parametrize('p', [1.0, 1.6, 2.0, 2.4])
def test_lp_loss_and_gradient_closed_form(p):
    g = torch.Generator().manual_seed(0)
    pred = torch.randn(3, 5, 2, generator=g, dtype=torch.float64, requires_grad=True)
    target = torch.randn(3, 5, 2, generator=g, dtype=torch.float64)
    weight = torch.rand(3, 5, generator=g, dtype=torch.float64)
    loss = LpShrinkLoss(p=p)(pred, target, weight)
    d = (pred - target).detach()
    w = weight[..., None].expand_as(d)
    n = d.numel()
    expected = (w * d.abs()**p / p).sum() / n  # mean over ALL elements, weighted
    torch.testing.assert_close(loss, expected)
    loss.backward()
    # d/dy_hat (1/p)|y_hat - y|^p = sign(y_hat - y) |y_hat - y|^(p - 1)
    expected_grad = w * torch.sign(d) * d.abs()**(p - 1) / n
    torch.testing.assert_close(pred.grad, expected_grad)


def test_larger_p_downweights_small_errors():
    """The point of shrinking: for |d| < 1 the gradient weight |d|^(p-1) grows as p -> 1."""
    d = torch.tensor([0.05, 0.2, 0.5], requires_grad=True)
    grads = []
    for p in (2.4, 1.6, 1.0):
        d.grad = None
        lp_shrink_loss(d, torch.zeros(3), p).sum().backward()
        grads.append(d.grad.clone())
    assert torch.all(grads[0] < grads[1]) and torch.all(grads[1] < grads[2])
    torch.testing.assert_close(grads[2], torch.ones(3))  # L1: constant weight


def test_p_one_is_l1_and_call_time_p_overrides():
    pred, target = torch.tensor([[[0.3, -0.2]]]), torch.tensor([[[0.0, 0.1]]])
    l1 = LpShrinkLoss(p=2.0)(pred, target, p=1.0)
    torch.testing.assert_close(l1, torch.tensor(0.3))
    l2 = LpShrinkLoss(p=2.0)(pred, target)
    torch.testing.assert_close(l2, torch.tensor((0.09 + 0.09) / 2 / 2))


def test_p_below_one_is_rejected():
    with pytest.raises(ValueError, match='p >= 1'):
        LpShrinkLoss(p=0.5)
    with pytest.raises(ValueError, match='p >= 1'):
        lp_shrink_loss(torch.zeros(1), torch.zeros(1), 0.9)
