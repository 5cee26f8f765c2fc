"""The per-class gradients that the GbR loss really back-propagates (logging, seed Fig. 5).

:class:`~.gradient_matrix.GradientMatrixAccumulator` holds what the weight *solver* needs: the
per-RoI mean gradient matrix of the label-weighted cross entropy, before any class weight.
Multiplying its rows by ``w`` gives the solver's fixed point, which balances by construction
once the weights have converged. What training applies differs: each RoI is weighted by
``label_weight * w_y ** beta / m_branch`` (beta = 0.5 on labeled, 1 on pseudo-labeled data),
the loss is normalised by the box head's ``avg_factor`` and multiplied by ``loss_weight``.

:class:`AppliedGradientMeter` accumulates, per loss branch, the gradient matrix of exactly the
loss value the GbR loss returns: with ``p`` the softmax and ``y`` the one-hot label of a RoI,
``d loss / d logits = coef * (p - y)`` with ``coef = loss_weight * weight / denominator`` (the
per-RoI weight the loss applied and its reduction's denominator), summed over the RoIs of each
ground-truth class (:func:`~.gradient_matrix.softmax_ce_grad_matrix`). Its diagonal is the
(negative-signed) positive gradient of each class, the rest of column ``c`` the negative
gradient the other classes put on logit ``c`` (:func:`applied_gradients`).

Across ranks the pending sums are averaged (DDP averages the parameter gradients, so each
rank's logit gradients count ``1 / world_size``); over iterations the matrices are a running
mean during the GbR warm-up and an EMA afterwards, like the solver's matrix, so the two are
comparable. Outer factors applied by the detector after the loss (the unlabeled loss weight,
Soft Teacher's renormalisation of the unlabeled classification loss by the sum of its label
weights) are not seen by the loss: per-branch values are gradients of the loss output itself;
the combined value scales each branch by its configured ``grad_scale`` (the unlabeled loss
weight).
"""
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmengine.dist import all_reduce, get_world_size
from torch import Tensor, nn

from .gradient_matrix import positive_negative_gradients, softmax_ce_grad_matrix


def gradient_coefficients(sample_weight: Tensor, reduction: str, avg_factor: Optional[float],
                          loss_weight: float) -> Tensor:
    """Per-RoI factor of ``p - y`` in the gradient of a reduced, weighted cross entropy.

    Mirrors mmdet's ``weight_reduce_loss``: 'mean' divides by ``avg_factor + eps`` (float32
    eps) or by the number of RoIs, 'sum' by 1; 'none' is counted as its sum.
    """
    coef = sample_weight.detach().float() * float(loss_weight)
    if reduction == 'mean':
        if avg_factor is not None:
            return coef / (float(avg_factor) + torch.finfo(torch.float32).eps)
        return coef / max(coef.numel(), 1)
    return coef


def applied_gradients(matrix: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    """Positive and negative gradient magnitudes and the balance residual of a matrix.

    Args:
        matrix (Tensor): (C, C) gradient matrix (rows: ground-truth class, columns: logit).

    Returns:
        tuple[Tensor, Tensor, Tensor]: ``pos[c] = -G[c, c]`` (the positive gradient class-c
        RoIs put on their own logit), ``neg[c] = sum_{r != c} G[r, c]`` and the residual
        ``(pos - neg) / (pos + neg)`` in [-1, 1] (0: balanced; 0 where both are 0).
    """
    pos, neg = positive_negative_gradients(matrix)
    total = pos + neg
    residual = torch.where(total > 0, (pos - neg) / total.clamp(min=1e-30),
                           torch.zeros_like(total))
    return pos, neg, residual


class AppliedGradientMeter(nn.Module):
    """Running per-branch gradient matrices of the loss actually back-propagated.

    Args:
        num_classes (int): Number of logits C (foreground classes + background).
        num_branches (int): Loss branches (e.g. labeled / unlabeled).
        warmup_iters (int): Steps averaged with a running mean before the EMA starts.
        momentum (float): EMA keep rate after warm-up. Defaults to 0.999.
    """

    def __init__(self,
                 num_classes: int,
                 num_branches: int = 1,
                 *,
                 warmup_iters: int = 0,
                 momentum: float = 0.999) -> None:
        super().__init__()
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f'momentum must be in [0, 1), got {momentum}')
        self.num_classes = num_classes
        self.num_branches = num_branches
        self.warmup_iters = warmup_iters
        self.momentum = momentum
        self.register_buffer('matrix', torch.zeros(num_branches, num_classes, num_classes))
        self.register_buffer('num_updates', torch.zeros((), dtype=torch.long))
        # per-iteration scratch (not state): branch matrices + the number of RoIs seen
        self._pending: Optional[Tensor] = None

    def _pending_on(self, device: torch.device) -> Tensor:
        if self._pending is None or self._pending.device != device:
            self._pending = torch.zeros(
                self.num_branches * self.num_classes * self.num_classes + 1, device=device)
        return self._pending

    def add(self, branch: int, cls_score: Tensor, labels: Tensor, coef: Tensor) -> None:
        """Add the logit gradients ``coef * (softmax - onehot)`` of one loss call."""
        pending = self._pending_on(cls_score.device)
        size = self.num_classes * self.num_classes
        batch = softmax_ce_grad_matrix(cls_score, labels, coef)
        pending[branch * size:(branch + 1) * size] += batch.flatten()
        pending[-1] += labels.numel()

    @torch.no_grad()
    def step(self) -> Optional[Tensor]:
        """Average this iteration's matrices over ranks and fold them in (collective).

        Returns:
            Tensor | None: The (B, C, C) matrices of this iteration, or None when no rank
            recorded a loss call (nothing is updated then).
        """
        pending = self._pending_on(self.matrix.device)
        all_reduce(pending, op='sum')
        total = pending.clone()
        pending.zero_()
        if float(total[-1]) <= 0:
            return None
        batch = total[:-1].reshape_as(self.matrix) / get_world_size()
        k = int(self.num_updates)
        if k < self.warmup_iters or k == 0:
            self.matrix.mul_(k / (k + 1)).add_(batch / (k + 1))
        else:
            self.matrix.mul_(self.momentum).add_(batch, alpha=1.0 - self.momentum)
        self.num_updates += 1
        return batch

    def gradients(self, branch_names: Sequence[str],
                  branch_scales: Tensor) -> Dict[str, Tensor]:
        """Per-class applied gradients, per branch and combined.

        Returns:
            dict: ``pos_app``, ``neg_app``, ``res_app`` of ``sum_b scale_b * G_b`` and
            ``pos_app_<branch>``, ``neg_app_<branch>``, ``res_app_<branch>`` of each
            branch's own matrix, each (C, ) (see :func:`applied_gradients`).
        """
        out = {}
        scales = branch_scales.to(self.matrix).reshape(-1, 1, 1)
        for suffix, matrix in [('', (self.matrix * scales).sum(dim=0))] + [
                (f'_{name}', self.matrix[i]) for i, name in enumerate(branch_names)]:
            pos, neg, res = applied_gradients(matrix)
            out.update({f'pos_app{suffix}': pos, f'neg_app{suffix}': neg,
                        f'res_app{suffix}': res})
        return out
