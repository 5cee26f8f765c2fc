"""The seed's derivatives: landmark sub-gradient, DoG belief derivative, belief update rule."""
import math

import numpy as np
import pytest
import torch

from lifting_helpers import lifter, prior, project_held_out, single_thread  # noqa: F401
from mmssl.models.lifting import (BeliefMapLifting, LandmarkLifting, LiftingBeliefFusion,
                                  belief_grad_to_landmarks, belief_update_gradient,
                                  dog_derivative, normalise_landmarks, render_belief_maps)


def _fd_jacobian(fn, x, eps=1e-5):
    """Central finite differences of ``fn`` ``(N, L, 2) -> (N, L, 2)``, per row."""
    n = len(x)
    flat = x.reshape(n, -1)
    jac = torch.zeros(n, flat.shape[1], flat.shape[1], dtype=x.dtype)
    for i in range(flat.shape[1]):
        step = torch.zeros_like(flat)
        step[:, i] = eps
        jac[:, :, i] = (fn((flat + step).view_as(x)) - fn((flat - step).view_as(x))).reshape(
            n, -1) / (2 * eps)
    return jac


def test_landmark_subgradient_matches_finite_differences_with_r_fixed(lifter):
    _, kpts = project_held_out(3, seed=7)
    x = torch.tensor(kpts)
    vis = torch.ones(3, 17, dtype=torch.bool)
    vis[2, [3, 6, 13]] = False  # the weighted solve
    res = lifter(x, vis, return_jacobian=True)
    _, centre, scale, _ = normalise_landmarks(x, vis)
    fixed = lambda inp: lifter.project_fixed(inp, vis, res.chart, res.rotation, centre, scale)
    assert torch.allclose(fixed(x), res.keypoints_2d, atol=1e-9)
    fd = _fd_jacobian(fixed, x)
    assert (fd - res.jacobian).abs().max() < 1e-7
    # Eq. 8 for a full view: E (E^T E + D^2)^-1 E^T is symmetric with eigenvalues in [0, 1)
    sym = res.jacobian[0]
    assert torch.allclose(sym, sym.T, atol=1e-12)
    eig = torch.linalg.eigvalsh(sym)
    assert eig.min() > -1e-9 and eig.max() < 1
    # invisible joints do not move the projection: their columns are zero
    assert res.jacobian[2].reshape(34, 17, 2)[:, [3, 6, 13]].abs().max() == 0
    # the autograd function back-propagates exactly through that Jacobian
    up = torch.randn(3, 17, 2, dtype=torch.float64)
    xg = x.clone().requires_grad_()
    store = {}
    out = LandmarkLifting.apply(xg, lifter, vis, store)
    (out * up).sum().backward()
    expected = torch.einsum('ni,nij->nj', up.reshape(3, -1), fd).view(3, 17, 2)
    assert torch.allclose(xg.grad, expected, atol=1e-7)
    assert torch.equal(store['result'].rotation, res.rotation)


def test_dog_belief_derivative_matches_a_numerical_derivative():
    centres = torch.tensor([[[3.3, 4.7], [7.9, 1.2]], [[5.5, 5.5], [0.4, 8.6]]],
                           dtype=torch.float64)
    size = (10, 12)
    render = lambda c: render_belief_maps(c, size, sigma=1.0)
    numerical = torch.autograd.functional.jacobian(render, centres)  # (2,2,H,W, 2,2,2)
    numerical = torch.einsum('nkhwnkd->nkdhw', numerical)
    assert torch.allclose(dog_derivative(centres, size, 1.0, delta=1e-4), numerical, atol=1e-7)
    # seed Eq. 9 with delta = 1 pixel is the central difference of shifted Gaussians
    shift = torch.tensor([1., 0.], dtype=torch.float64)
    dog = dog_derivative(centres, size, 1.0, delta=1.0)
    assert torch.allclose(dog[:, :, 0], (render(centres + shift) - render(centres - shift)) / 2)
    # the separable contraction used in backward equals the dense one
    grad = torch.randn(2, 2, *size, dtype=torch.float64)
    assert torch.allclose(belief_grad_to_landmarks(grad, centres, 1.0, 1.0),
                          torch.einsum('nkhw,nkdhw->nkd', grad, dog))


def test_belief_update_rule_steps_down_at_the_argmax_and_up_in_the_quadrant():
    h, w, k = 10, 12, 2.0
    argmax = torch.tensor([[[5, 4]]])
    grad_y = torch.tensor([[[1.0, -2.0]]], dtype=torch.float64)  # update -> (-x, +y)
    grad = belief_update_gradient((h, w), argmax, grad_y, k=k, sigma=1.0)[0, 0]
    m = k * math.sqrt(5)
    assert grad[4, 5] == pytest.approx(m)  # descent lowers the current maximum
    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')
    quadrant = (xs <= 5) & (ys >= 4) & ~((xs == 5) & (ys == 4))
    normal = torch.exp(-((xs - 5)**2 + (ys - 4)**2) / 2.) / (2 * math.pi)
    assert torch.allclose(grad[quadrant], -m * normal[quadrant].double())
    assert (grad[~quadrant & ~((xs == 5) & (ys == 4))] == 0).all()
    # a descent step on a peaked map moves its maximum along -dL/dY
    belief = torch.exp(-((xs - 5.)**2 + (ys - 4.)**2) / 2.).double()
    stepped = belief - 0.4 * grad
    new = int(stepped.argmax())
    assert (new % w, new // w) != (5, 4) and new % w <= 5 and new // w >= 4
    # a zero gradient leaves the beliefs alone
    assert belief_update_gradient((h, w), argmax, torch.zeros_like(grad_y)).abs().max() == 0


def _peaked_beliefs(num, size=16, seed=3):
    _, kpts = project_held_out(num, seed=seed, scale=0.007, offset=size / 2)
    grid = torch.arange(size, dtype=torch.float64)
    c = torch.tensor(np.round(kpts))
    return torch.exp(-((grid[None, None, :, None] - c[..., 1, None, None])**2 +
                       (grid[None, None, None, :] - c[..., 0, None, None])**2) / 2.)


def test_belief_map_lifting_backward_chains_eq9_eq8_and_the_update(lifter):
    belief = _peaked_beliefs(2).requires_grad_()
    up = torch.randn_like(belief)
    store = {}
    proj = BeliefMapLifting.apply(belief, lifter, 0.5, 1.0, 1.0, 1.5, store)
    res, argmax = store['result'], store['argmax']
    assert res.valid.all() and proj.shape == belief.shape
    # projected maps: unit Gaussians at the projected landmarks
    assert torch.allclose(proj, render_belief_maps(res.keypoints_2d, (16, 16), 1.0))
    (proj * up).sum().backward()
    g_hat = torch.einsum('nkhw,nkdhw->nkd', up, dog_derivative(res.keypoints_2d, (16, 16)))
    g_y = torch.einsum('ni,nij->nj', g_hat.reshape(2, -1), res.jacobian).view(2, 17, 2)
    expected = belief_update_gradient((16, 16), argmax, g_y, k=1.5, sigma=1.0)
    assert torch.allclose(belief.grad, expected, atol=1e-10)
    assert belief.grad.abs().sum() > 0


def test_landmark_gradient_of_the_belief_chain_matches_finite_differences(lifter):
    # With delta -> 0, Eq. 9 and Eq. 8 give the exact derivative of render(lift(Y)) at R fixed.
    belief = _peaked_beliefs(1, seed=4)
    up = torch.randn_like(belief)
    store = {}
    BeliefMapLifting.apply(belief, lifter, 0.5, 1.0, 1e-5, 1.0, store)
    res, y = store['result'], store['argmax'].double()
    vis = torch.ones(1, 17, dtype=torch.bool)
    _, centre, scale, _ = normalise_landmarks(y, vis)

    def loss(inp):
        hat = lifter.project_fixed(inp, vis, res.chart, res.rotation, centre, scale)
        return (render_belief_maps(hat, (16, 16), 1.0) * up).sum()

    g_hat = belief_grad_to_landmarks(up, res.keypoints_2d, 1.0, 1e-5)
    g_y = (g_hat.reshape(1, 1, -1) @ res.jacobian).view(1, 17, 2)
    direction = torch.randn_like(y)
    eps = 1e-5
    fd = (loss(y + eps * direction) - loss(y - eps * direction)) / (2 * eps)
    assert fd.item() == pytest.approx((g_y * direction).sum().item(), rel=1e-5, abs=1e-8)


@pytest.mark.parametrize('backprop', [True, False])
def test_fusion_weights_receive_gradients_and_the_switch_stops_lifting_gradients(
        lifter, backprop):
    fusion = LiftingBeliefFusion(lifter, 2, init_weights=[(0.5, 0.5), (0.25, 0.75)],
                                 backprop_lifting=backprop, vis_thr=0.5).double()
    belief = _peaked_beliefs(2).requires_grad_()
    up = torch.randn_like(belief)
    fused = fusion(1, belief)
    (fused * up).sum().backward()
    proj, _ = fusion.project(belief.detach())
    w_p, w_c = 0.25, 0.75  # softmax of the logits initialised from the normalised weights
    assert torch.allclose(fusion.weights.detach()[1].double(), torch.tensor([w_p, w_c]).double())
    assert torch.allclose(fused, w_p * proj + w_c * belief.detach())
    # f = sum_i w_i b_i with w = softmax(l): df/dl_j = w_j (b_j - f)
    grad_l = fusion.weight_logits.grad[1]
    assert torch.allclose(grad_l[0], w_p * ((proj - fused) * up).sum(), rtol=1e-5)
    assert torch.allclose(grad_l[1], w_c * ((belief - fused) * up).sum(), rtol=1e-5)
    assert grad_l.abs().min() > 0 and fusion.weight_logits.grad[0].abs().max() == 0
    direct = w_c * up
    if backprop:
        assert (belief.grad - direct).abs().max() > 1e-3  # the lifting path adds a term
    else:
        assert torch.allclose(belief.grad, direct)
