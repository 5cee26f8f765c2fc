"""The (n+1) x (n+1) gradient matrix of a softmax cross-entropy classifier (GbR).

Gradient-based Reweighting (seed 004, sections 2 and 9) balances, for every class, the
*positive* gradient its own samples put on its logit against the *negative* gradient the
samples of all other classes put on it. Both come from one matrix: with ``p`` the softmax of
the logits and ``y`` the one-hot label of a RoI, the gradient of the cross entropy with respect
to the logits is ``p - y``; summing it over the RoIs of ground-truth class ``r`` gives row
``r``. Row ``r``, column ``c != r`` holds the (positive-signed) negative gradient class-``r``
samples put on logit ``c``; the diagonal holds the (negative-signed) positive gradient. With
these raw autograd signs the balance equations read

    w_c * G[c, c] = - sum_{r != c} w_r * G[r, c]        for every class c,

which is the seed's Eq. (1) with its matrix indexed ``[logit, class]`` (the transpose of
ours). Every row sums to zero (softmax gradients do), so the n+1 equations have rank n and a
positive solution up to scale; ``sum(w) = n + 1`` fixes the scale (Eq. 2).
"""
from typing import Optional, Tuple

import torch
from mmengine.dist import all_reduce
from torch import Tensor, nn


def softmax_ce_grad_matrix(cls_score: Tensor,
                           labels: Tensor,
                           sample_weight: Optional[Tensor] = None) -> Tensor:
    """Sum of the softmax cross-entropy gradients of a batch, grouped by class.

    Args:
        cls_score (Tensor): Logits of shape (N, C), background last for detectors.
        labels (Tensor): Ground-truth class indices of shape (N, ), in [0, C).
        sample_weight (Tensor, optional): Per-sample loss weights of shape (N, ). The
            matrix is then the gradient of ``sum_i weight_i * CE_i``.

    Returns:
        Tensor: (C, C) float32 matrix; ``[r, c]`` is the sum over samples of class ``r``
        of ``d(weight * CE) / d logit_c``.
    """
    if cls_score.dim() != 2:
        raise ValueError(f'cls_score must be (N, C), got shape {tuple(cls_score.shape)}')
    num_samples, num_classes = cls_score.shape
    if labels.shape != (num_samples, ):
        raise ValueError(f'labels must have shape ({num_samples},), got '
                         f'{tuple(labels.shape)}')
    grad = cls_score.detach().float().softmax(dim=-1)
    grad[torch.arange(num_samples, device=grad.device), labels] -= 1.0
    if sample_weight is not None:
        grad = grad * sample_weight.detach().float().reshape(-1, 1)
    matrix = grad.new_zeros(num_classes, num_classes)
    return matrix.index_add_(0, labels.long(), grad)


def positive_negative_gradients(matrix: Tensor,
                                weights: Optional[Tensor] = None
                                ) -> Tuple[Tensor, Tensor]:
    """Per-class positive and negative gradient magnitudes of a gradient matrix.

    Args:
        matrix (Tensor): (C, C) gradient matrix, rows = ground-truth class.
        weights (Tensor, optional): (C, ) class weights applied to the rows (the samples
            of class ``r`` are weighted by ``weights[r]``), to show the reweighted balance.

    Returns:
        tuple[Tensor, Tensor]: ``pos[c] = -w_c * G[c, c]`` and
        ``neg[c] = sum_{r != c} w_r * G[r, c]``, both (C, ) and non-negative.
    """
    if weights is not None:
        matrix = matrix * weights.reshape(-1, 1)
    diag = torch.diagonal(matrix)
    pos = -diag
    neg = matrix.sum(dim=0) - diag
    return pos, neg


class GradientMatrixAccumulator(nn.Module):
    """Accumulates the gradient matrix over a training run, synchronised across ranks.

    Within an iteration every loss call adds its batch to a pending sum kept per *branch*
    (e.g. labeled and unlabeled losses). :meth:`step`, called once per iteration on every
    rank, all-reduces the pending sums and RoI counts, so the batch matrix equals the one a
    single process seeing all ranks' RoIs would compute; it is ``sum_b scale_b * G_b / N_b``
    (per-branch mean over RoIs). The long-term matrix is the running mean of the batch
    matrices for the first ``warmup_iters`` steps and an EMA with ``momentum`` afterwards.

    Args:
        num_classes (int): Number of logits C (foreground classes + background).
        num_branches (int): Number of loss branches with separate pending sums.
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
        if warmup_iters < 0:
            raise ValueError(f'warmup_iters must be >= 0, got {warmup_iters}')
        self.num_classes = num_classes
        self.num_branches = num_branches
        self.warmup_iters = warmup_iters
        self.momentum = momentum
        self.register_buffer('matrix', torch.zeros(num_classes, num_classes))
        self.register_buffer('num_updates', torch.zeros((), dtype=torch.long))
        # Pending sums are per-iteration scratch, not state: plain attributes, so they are
        # neither checkpointed nor broadcast by DDP.
        self._pending: Optional[Tensor] = None

    def _pending_on(self, device: torch.device) -> Tensor:
        if self._pending is None or self._pending.device != device:
            self._pending = torch.zeros(
                self.num_branches, self.num_classes * self.num_classes + 1, device=device)
        return self._pending

    def add(self,
            branch: int,
            cls_score: Tensor,
            labels: Tensor,
            sample_weight: Optional[Tensor] = None) -> None:
        """Add one loss call's RoIs to the pending sums of ``branch``."""
        if not 0 <= branch < self.num_branches:
            raise IndexError(f'branch {branch} out of range [0, {self.num_branches})')
        if cls_score.size(-1) != self.num_classes:
            raise ValueError(f'cls_score has {cls_score.size(-1)} logits, the gradient matrix '
                             f'was built for {self.num_classes} (num_classes + 1)')
        pending = self._pending_on(cls_score.device)
        batch = softmax_ce_grad_matrix(cls_score, labels, sample_weight)
        pending[branch, :-1] += batch.flatten()
        pending[branch, -1] += labels.numel()

    @property
    def has_pending(self) -> bool:
        return self._pending is not None and bool(self._pending[:, -1].sum() > 0)

    def reduce_pending(self) -> Tuple[Tensor, Tensor]:
        """All-reduce and clear the pending sums.

        Returns:
            tuple[Tensor, Tensor]: per-branch summed matrices (B, C, C) and RoI counts (B, ).
        """
        pending = self._pending_on(self.matrix.device)
        all_reduce(pending, op='sum')
        sums = pending[:, :-1].reshape(self.num_branches, self.num_classes,
                                       self.num_classes).clone()
        counts = pending[:, -1].clone()
        pending.zero_()
        return sums, counts

    def update(self, batch_matrix: Tensor) -> None:
        """Fold one iteration's batch matrix into the long-term matrix."""
        k = int(self.num_updates)
        if k < self.warmup_iters or k == 0:
            self.matrix.mul_(k / (k + 1)).add_(batch_matrix.to(self.matrix) / (k + 1))
        else:
            self.matrix.mul_(self.momentum).add_(batch_matrix.to(self.matrix),
                                                 alpha=1.0 - self.momentum)
        self.num_updates += 1

    def step(self, branch_scales: Tensor) -> Optional[Tensor]:
        """Reduce the pending sums across ranks and update the long-term matrix.

        Args:
            branch_scales (Tensor): (B, ) factor of each branch's mean matrix (e.g. its
                loss weight).

        Returns:
            Tensor | None: The batch matrix, or None when no rank saw any RoI (nothing
            is updated then).
        """
        sums, counts = self.reduce_pending()
        if float(counts.sum()) <= 0:
            return None
        scales = branch_scales.to(sums) / counts.clamp(min=1.0)
        batch = (sums * scales.reshape(-1, 1, 1)).sum(dim=0)
        self.update(batch)
        return batch
