"""Solvers of the GbR balance equations for class weights (seed 004, section 2).

Given the gradient matrix ``G`` (rows = ground-truth class, see
:mod:`.gradient_matrix`) the class weights solve

    w_c * (-G[c, c]) = sum_{r != c} w_r * G[r, c],      sum_c w_c = n + 1.

Two solvers, as in the seed and the authors' release:

* :func:`jacobi_step` - one Jacobi update of the foreground weights from the current ones;
  the background weight takes the rest of the budget ``n + 1``; weights are clamped to
  ``[min_weight, max_weight]`` (background to ``[min_weight, max_bg_weight]``). Applied once
  per iteration on a slowly moving (EMA) matrix, the iteration tracks the fixed point.
* :class:`LearnableClassWeights` - the learnable variant: parameters ``a`` with
  ``w = (n + 1) * softmax(a)`` (so ``w > 0`` always), trained by gradient descent with
  momentum on the mean squared error between ``a`` and the log of the Jacobi target. The
  weights GbR applies are these projected onto the constraints (:func:`project_to_budget`:
  sum ``n + 1``, foreground in ``[min_weight, max_weight]``, background in
  ``[min_weight, max_bg_weight]``). The seed reports both reach the same AP on COCO (26.5).

:func:`solve_balance_direct` solves the equations exactly (null space of ``G^T``) and is used
to check the iterative solvers. :func:`direct_weights` is the "direct solution" of seed
section 2 as a solver (GbR ``solver='direct'``): the least-squares null vector scaled to the
budget, projected onto the clamps - a negative entry (which the seed reports on
Objects365 / LVIS) ends on ``min_weight`` instead of raising.
"""
from typing import Optional, Tuple

import torch
from torch import Tensor, nn


def _check_matrix(matrix: Tensor) -> None:
    if matrix.dim() != 2 or matrix.size(0) != matrix.size(1) or matrix.size(0) < 2:
        raise ValueError('gradient matrix must be square (n+1, n+1) with n >= 1, got shape '
                         f'{tuple(matrix.shape)}')


def jacobi_target(matrix: Tensor, weights: Tensor, eps: float = 1e-12) -> Tensor:
    """Unclamped Jacobi update of every class weight (background included).

    Returns:
        Tensor: ``t[c] = sum_{r != c} w_r G[r, c] / (-G[c, c])`` for all c, shape (n+1, ).
    """
    _check_matrix(matrix)
    matrix = matrix.float()
    weights = weights.to(matrix)
    diag = torch.diagonal(matrix)
    negative = weights @ matrix - weights * diag  # sum over r != c of w_r * G[r, c]
    return negative / (-diag).clamp(min=eps)


def jacobi_step(matrix: Tensor,
                weights: Tensor,
                *,
                min_weight: float = 1.0 / 3.0,
                max_weight: float = 5.0,
                max_bg_weight: float = 1.0,
                damping: float = 1.0,
                eps: float = 1e-12) -> Tensor:
    """One Jacobi step of the balance equations with the release's budget and clamps.

    Foreground weights get their Jacobi update, the background (last) weight gets
    ``(n + 1) - sum(foreground)``; then foreground weights are clamped to
    ``[min_weight, max_weight]`` and the background weight to ``[min_weight, max_bg_weight]``.
    With ``damping < 1`` the result is ``(1 - damping) * weights + damping * step``.

    The undamped step (the release's rule) converges to a positive multiple of the balance
    solution while the background weight sits on a clamp; when the exact solution has its
    background weight strictly inside the clamps, the budget rule makes the iteration
    oscillate and ``damping = 0.5`` is needed to converge
    (tests/test_ci_ssod/test_class_weight_solver.py).

    Args:
        matrix (Tensor): (n+1, n+1) gradient matrix, rows = ground-truth class.
        weights (Tensor): Current (n+1, ) class weights.
        damping (float): Step size in (0, 1]; 1 is the plain Jacobi step.

    Returns:
        Tensor: New (n+1, ) class weights.
    """
    if not 0 < min_weight <= 1.0 <= max_weight or max_bg_weight < min_weight:
        raise ValueError('need 0 < min_weight <= 1 <= max_weight and max_bg_weight >= '
                         f'min_weight, got {min_weight}, {max_weight}, {max_bg_weight}')
    if not 0 < damping <= 1:
        raise ValueError(f'damping must be in (0, 1], got {damping}')
    num = matrix.size(0)
    target = jacobi_target(matrix, weights, eps)
    fg = target[:-1].clamp(min_weight, max_weight)
    bg = (num - target[:-1].sum()).clamp(min_weight, max_bg_weight)
    step = torch.cat([fg, bg.reshape(1)])
    if damping == 1:
        return step
    return (1 - damping) * weights.to(step) + damping * step


def balance_residual(matrix: Tensor, weights: Tensor) -> Tensor:
    """Per-class residual of the balance equations, relative to the positive gradient.

    Returns:
        Tensor: ``(w_c * (-G[c, c]) - sum_{r != c} w_r G[r, c]) / (w_c * (-G[c, c]))``.
    """
    matrix = matrix.float()
    weights = weights.to(matrix)
    diag = torch.diagonal(matrix)
    pos = -diag * weights
    neg = weights @ matrix - weights * diag
    return (pos - neg) / pos.clamp(min=1e-12)


def solve_balance_direct(matrix: Tensor) -> Tensor:
    """Exact solution of the balance equations: the null vector of ``G^T``, sum n+1.

    Raises:
        ValueError: If the null vector is not of one sign (the equations then have no
            positive solution, the case the learnable variant was introduced for).
    """
    _check_matrix(matrix)
    # Balance: G^T w = 0 (column c: w_c G[c, c] + sum_{r != c} w_r G[r, c] = 0).
    _, _, vh = torch.linalg.svd(matrix.double().T)
    null = vh[-1]
    null = null * torch.sign(null.sum())
    if bool((null <= 0).any()):
        raise ValueError('the balance equations have no positive solution for this matrix')
    return (null / null.sum() * matrix.size(0)).to(matrix.dtype)


def direct_weights(matrix: Tensor,
                   *,
                   min_weight: float = 1.0 / 3.0,
                   max_weight: float = 5.0,
                   max_bg_weight: float = 1.0) -> Tensor:
    """Direct solution of the balance equations under the budget and clamps.

    The right singular vector of ``G^T`` with the smallest singular value (the exact
    solution when one exists, the least-squares one otherwise), signed so that its sum is
    positive and scaled to ``sum = n + 1``, then :func:`project_to_budget` onto
    ``[min_weight, max_weight]`` (background ``[min_weight, max_bg_weight]``).

    Returns:
        Tensor: (n+1, ) class weights, in ``matrix``'s dtype.
    """
    _check_matrix(matrix)
    _, _, vh = torch.linalg.svd(matrix.double().T)
    null = vh[-1]
    total = null.sum()
    if float(total.abs()) < 1e-12:  # no direction with a positive budget: keep w = 1
        return torch.ones(matrix.size(0), dtype=matrix.dtype, device=matrix.device)
    weights = null / total * matrix.size(0)
    lower = torch.full_like(weights, min_weight)
    upper = torch.full_like(weights, max_weight)
    upper[-1] = max_bg_weight
    return project_to_budget(weights, lower, upper).to(matrix.dtype)


def project_to_budget(weights: Tensor, lower: Tensor, upper: Tensor,
                      iters: int = 60) -> Tensor:
    """The closest weights (Euclidean) with ``lower <= w <= upper`` and ``sum(w) =
    sum(weights)``: ``clip(weights - tau, lower, upper)`` with the shift ``tau`` found by
    bisection (the clipped sum falls monotonically in ``tau``). Clamping alone would break
    the budget ``sum(w) = n + 1`` the balance equations are solved under.

    Raises:
        ValueError: when the bounds cannot hold the budget.
    """
    budget = weights.sum()
    if bool(lower.sum() > budget) or bool(upper.sum() < budget):
        raise ValueError(f'bounds [{float(lower.sum()):g}, {float(upper.sum()):g}] cannot '
                         f'hold the weight budget {float(budget):g}')
    lo = (weights - upper).min()  # shifts at which every weight is on a bound
    hi = (weights - lower).max()
    for _ in range(iters):
        tau = (lo + hi) / 2
        if (weights - tau).clamp(lower, upper).sum() > budget:
            lo = tau
        else:
            hi = tau
    out = (weights - (lo + hi) / 2).clamp(lower, upper)
    return out * (budget / out.sum())  # remove the last bisection error (~1e-16 relative)


class LearnableClassWeights(nn.Module):
    """Class weights ``w = (n + 1) * softmax(a)`` learned to mimic the Jacobi update.

    Each :meth:`step` builds the Jacobi target from the current weights (foreground:
    Jacobi update, background: the rest of the budget, clamped as in :func:`jacobi_step`),
    takes the loss ``mean((a - log target)^2)`` and applies one SGD-with-momentum update to
    ``a`` (defaults lr 0.01, momentum 0.9: the release trains ``a`` with the detector's SGD).
    ``a`` and the momentum buffer are buffers, so they are checkpointed and never touched by
    the detector's optimizer or by DDP's gradient synchronisation.

    Args:
        num_classes (int): n + 1 (foreground classes and background).
        lr (float): Learning rate of ``a``. Defaults to 0.01.
        momentum (float): SGD momentum. Defaults to 0.9.
        min_weight, max_weight, max_bg_weight (float): Clamps of the Jacobi target.
    """

    def __init__(self,
                 num_classes: int,
                 *,
                 lr: float = 0.01,
                 momentum: float = 0.9,
                 min_weight: float = 1.0 / 3.0,
                 max_weight: float = 5.0,
                 max_bg_weight: float = 1.0) -> None:
        super().__init__()
        if lr <= 0 or not 0 <= momentum < 1:
            raise ValueError(f'need lr > 0 and momentum in [0, 1), got {lr}, {momentum}')
        self.lr = lr
        self.momentum = momentum
        self.clamps = dict(
            min_weight=min_weight, max_weight=max_weight, max_bg_weight=max_bg_weight)
        self.register_buffer('logits', torch.zeros(num_classes))
        self.register_buffer('momentum_buffer', torch.zeros(num_classes))

    def weights(self) -> Tensor:
        """Current weights ``(n + 1) * softmax(a)``, positive and summing to n + 1."""
        return self.logits.softmax(dim=0) * self.logits.numel()

    def constrained_weights(self) -> Tensor:
        """:meth:`weights` projected onto the spec's constraints: sum n + 1, foreground in
        ``[min_weight, max_weight]``, background (last) in ``[min_weight, max_bg_weight]``."""
        weights = self.weights()
        lower = torch.full_like(weights, self.clamps['min_weight'])
        upper = torch.full_like(weights, self.clamps['max_weight'])
        upper[-1] = self.clamps['max_bg_weight']
        return project_to_budget(weights, lower, upper)

    def step(self, matrix: Tensor, weights: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """One optimisation step of ``a`` towards the Jacobi target.

        Args:
            matrix (Tensor): (n+1, n+1) gradient matrix.
            weights (Tensor, optional): Weights the target is computed from; defaults to
                :meth:`weights`.

        Returns:
            tuple[Tensor, Tensor]: the mimic loss before the step and the target weights.
        """
        if weights is None:
            weights = self.weights()
        target = jacobi_step(matrix, weights, **self.clamps).to(self.logits)
        with torch.enable_grad():
            logits = self.logits.detach().clone().requires_grad_(True)
            loss = (logits - target.log()).pow(2).mean()
            (grad, ) = torch.autograd.grad(loss, logits)
        self.momentum_buffer.mul_(self.momentum).add_(grad)
        self.logits.sub_(self.lr * self.momentum_buffer)
        return loss.detach(), target
