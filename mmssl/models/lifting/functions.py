"""Autograd functions of the lifting layer with the seed's sub-gradients.

* :class:`LandmarkLifting`: landmarks ``Y`` -> projected landmarks ``Y_hat``; backward uses
  ``d Y_hat / d Y = E Ebar^t`` with the chart and rotation fixed at the forward choice (seed
  Eq. 8).
* :class:`BeliefMapLifting`: belief maps ``B`` -> projected belief maps ``B_hat`` (one
  Gaussian per joint at ``Y_hat``, peak 1). Backward: the belief gradient is mapped to
  ``Y_hat`` by a central difference of Gaussians (seed Eq. 9, ``delta`` = 1 pixel), to ``Y`` by
  Eq. 8, and to ``B`` by the update rule of the seed ("Updating B"): a negative step of
  magnitude ``m = k ||dL/dY_p||`` at the current argmax and a positive Gaussian-weighted step
  ``m N(., sigma^2)`` in the quadrant of the update direction ``-dL/dY_p``.

Heat-map pixel ``(row, col)`` has coordinates ``(x, y) = (col, row)`` as in MMPose's codecs.
"""
import math
from typing import Any, Dict, Optional, Tuple

import torch
from torch import Tensor
from torch.autograd import Function

from .lifter import LiftingResult, PPCAMixtureLifter


def _axis_gaussians(centres: Tensor, size: int, sigma: float) -> Tensor:
    """``exp(-(u - c)^2 / 2 sigma^2)`` for ``u`` in ``[0, size)``: ``(..., size)``."""
    u = torch.arange(size, dtype=centres.dtype, device=centres.device)
    return torch.exp(-(u - centres[..., None])**2 / (2 * sigma**2))


def render_belief_maps(centres: Tensor, size: Tuple[int, int], sigma: float = 1.0) -> Tensor:
    """Projected belief maps: one Gaussian per joint (peak 1) at ``centres``.

    Args:
        centres: ``(N, K, 2)`` ``(x, y)`` heat-map coordinates.
        size: ``(H, W)`` of the maps.
        sigma: Gaussian standard deviation in pixels.

    Returns:
        Tensor: ``(N, K, H, W)``.
    """
    gx = _axis_gaussians(centres[..., 0], size[1], sigma)
    gy = _axis_gaussians(centres[..., 1], size[0], sigma)
    return gy[..., :, None] * gx[..., None, :]


def _separable_dog(centres: Tensor, size: Tuple[int, int], sigma: float,
                   delta: float) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """The 1D factors of the Gaussians and of their seed Eq. 9 derivatives.

    The rendered map is ``G = gy[:, None] * gx[None, :]``; its central differences along
    ``x`` and ``y`` are ``gy[:, None] * dgx[None, :]`` and ``dgy[:, None] * gx[None, :]``
    with ``dg = (g(c + delta) - g(c - delta)) / (2 delta)``. :func:`dog_derivative` expands
    them, :func:`belief_grad_to_landmarks` contracts a gradient with them; both use this one
    implementation.

    Returns:
        tuple: ``gx (..., W)``, ``gy (..., H)``, ``dgx (..., W)``, ``dgy (..., H)``.
    """
    h, w = size
    cx, cy = centres[..., 0], centres[..., 1]
    gx, gy = _axis_gaussians(cx, w, sigma), _axis_gaussians(cy, h, sigma)
    dgx = (_axis_gaussians(cx + delta, w, sigma) - _axis_gaussians(cx - delta, w, sigma)) / \
        (2 * delta)
    dgy = (_axis_gaussians(cy + delta, h, sigma) - _axis_gaussians(cy - delta, h, sigma)) / \
        (2 * delta)
    return gx, gy, dgx, dgy


def dog_derivative(centres: Tensor, size: Tuple[int, int], sigma: float = 1.0,
                   delta: float = 1.0) -> Tensor:
    """Seed Eq. 9: ``d B_hat / d Y_hat`` as central differences of Gaussians.

    Returns:
        Tensor: ``(N, K, 2, H, W)``; ``[:, :, 0]`` the ``x`` and ``[:, :, 1]`` the ``y``
        derivative ``(G(Y_hat + delta) - G(Y_hat - delta)) / (2 delta)``.
    """
    gx, gy, dgx, dgy = _separable_dog(centres, size, sigma, delta)
    return torch.stack([gy[..., :, None] * dgx[..., None, :], dgy[..., :, None] * gx[..., None, :]],
                       2)


def belief_grad_to_landmarks(grad: Tensor, centres: Tensor, sigma: float = 1.0,
                             delta: float = 1.0) -> Tensor:
    """Contract ``(N, K, H, W)`` belief gradients with Eq. 9 -> ``(N, K, 2)`` (separably,
    without forming the ``(N, K, 2, H, W)`` derivative of :func:`dog_derivative`)."""
    gx, gy, dgx, dgy = _separable_dog(centres, grad.shape[-2:], sigma, delta)
    return torch.stack([torch.einsum('nkhw,nkh,nkw->nk', grad, gy, dgx),
                        torch.einsum('nkhw,nkh,nkw->nk', grad, dgy, gx)], -1)


def belief_update_gradient(size: Tuple[int, int], argmax_xy: Tensor, grad_landmarks: Tensor,
                           k: float = 1.0, sigma: float = 1.0) -> Tensor:
    """The seed's update of ``B`` from ``dL/dY``, returned as a gradient (descent applies it).

    Args:
        size: ``(H, W)``.
        argmax_xy: ``(N, K, 2)`` integer ``(x, y)`` of the current maxima.
        grad_landmarks: ``(N, K, 2)`` ``dL/dY``.
        k: Step factor of ``m = k ||dL/dY_p||``.
        sigma: Width of the positive Gaussian step.

    Returns:
        Tensor: ``(N, K, H, W)``: ``+m`` at the argmax (descent lowers it) and
        ``-m N(u - argmax, sigma^2)`` on the quadrant of ``-dL/dY_p`` (descent raises it).
    """
    h, w = size
    dt, dev = grad_landmarks.dtype, grad_landmarks.device
    mag = k * grad_landmarks.norm(dim=-1)  # (N, K)
    direction = torch.sign(-grad_landmarks)
    dx = torch.arange(w, device=dev, dtype=dt) - argmax_xy[..., 0:1].to(dt)  # (N, K, W)
    dy = torch.arange(h, device=dev, dtype=dt) - argmax_xy[..., 1:2].to(dt)  # (N, K, H)
    in_x = dx * direction[..., 0:1] >= 0  # a zero direction keeps both sides
    in_y = dy * direction[..., 1:2] >= 0
    quadrant = in_y[..., :, None] & in_x[..., None, :]
    at_max = (dy[..., :, None] == 0) & (dx[..., None, :] == 0)
    normal = torch.exp(-(dy[..., :, None]**2 + dx[..., None, :]**2) / (2 * sigma**2)) / \
        (2 * math.pi * sigma**2)
    up = torch.where(quadrant & ~at_max, normal, torch.zeros_like(normal))
    return mag[..., None, None] * (at_max.to(dt) - up)


class LandmarkLifting(Function):
    """``Y_hat = lift(Y)`` with the sub-gradient ``E Ebar^t`` (R and chart fixed).

    ``LandmarkLifting.apply(keypoints, lifter, visible, store)`` returns the projected
    landmarks ``(N, L, 2)``; the full :class:`LiftingResult` is put in ``store['result']`` when
    ``store`` is a dict. Rows that cannot be lifted pass their landmarks through (identity).
    """

    @staticmethod
    def forward(ctx: Any, keypoints: Tensor, lifter: PPCAMixtureLifter,
                visible: Optional[Tensor] = None,
                store: Optional[Dict[str, LiftingResult]] = None) -> Tensor:
        res = lifter(keypoints, visible, return_jacobian=True)
        if store is not None:
            store['result'] = res
        ctx.save_for_backward(_identity_for_invalid(res))
        return res.keypoints_2d

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tuple[Optional[Tensor], None, None, None]:
        jac, = ctx.saved_tensors
        n = len(grad)
        grad_in = (grad.reshape(n, 1, jac.shape[-1]) @ jac).reshape(grad.shape)
        return grad_in, None, None, None


def _identity_for_invalid(res: LiftingResult) -> Tensor:
    jac = res.jacobian
    eye = torch.eye(jac.shape[-1], dtype=jac.dtype, device=jac.device)
    return torch.where(res.valid[:, None, None], jac, eye)


def belief_argmax(belief: Tensor) -> Tuple[Tensor, Tensor]:
    """Integer ``(x, y)`` argmax ``(N, K, 2)`` and maximum ``(N, K)`` of belief maps."""
    n, k, h, w = belief.shape
    val, idx = belief.detach().reshape(n, k, h * w).max(-1)
    return torch.stack([idx % w, torch.div(idx, w, rounding_mode='floor')], -1), val


class BeliefMapLifting(Function):
    """Belief maps -> projected belief maps through the lifting, with the seed's backward.

    ``BeliefMapLifting.apply(belief, lifter, vis_thr, sigma, delta, k, store)``: ``belief``
    ``(N, K, H, W)``; a joint is visible when its maximum exceeds ``vis_thr``. Returns the
    projected maps ``(N, K, H, W)``; ``store['result']`` receives the :class:`LiftingResult`
    and ``store['argmax']`` the integer maxima. ``landmarks`` (optional, last argument,
    ``(N, K, 2)``): the landmarks ``Y`` to lift, e.g. sub-pixel decoded ones
    (:func:`~.landmarks.decode_landmarks`); default the integer maxima. The update of ``B``
    in the backward stays at the integer maxima (seed "Updating B").
    """

    @staticmethod
    def forward(ctx: Any, belief: Tensor, lifter: PPCAMixtureLifter, vis_thr: float = 0.1,
                sigma: float = 1.0, delta: float = 1.0, k: float = 1.0,
                store: Optional[Dict[str, Any]] = None,
                landmarks: Optional[Tensor] = None) -> Tensor:
        if belief.ndim != 4:
            raise ValueError(f'belief maps must be (N, K, H, W), got {tuple(belief.shape)}')
        argmax, peak = belief_argmax(belief)
        work = torch.float64 if belief.dtype == torch.float64 else torch.float32
        y = argmax if landmarks is None else landmarks.detach()
        res = lifter(y.to(work), peak > vis_thr, return_jacobian=True)
        if store is not None:
            store['result'], store['argmax'] = res, argmax
        ctx.save_for_backward(_identity_for_invalid(res), res.keypoints_2d, argmax)
        ctx.params = (sigma, delta, k, belief.dtype)
        return render_belief_maps(res.keypoints_2d, belief.shape[-2:], sigma).to(belief.dtype)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tuple[Optional[Tensor], ...]:
        jac, kpts_hat, argmax = ctx.saved_tensors
        sigma, delta, k, dtype = ctx.params
        n, num_k = grad.shape[:2]
        g_hat = belief_grad_to_landmarks(grad.to(kpts_hat.dtype), kpts_hat, sigma, delta)  # Eq. 9
        g_y = (g_hat.reshape(n, 1, 2 * num_k) @ jac).reshape(n, num_k, 2)  # Eq. 8
        grad_b = belief_update_gradient(grad.shape[-2:], argmax, g_y, k, sigma)
        return grad_b.to(dtype), None, None, None, None, None, None, None
