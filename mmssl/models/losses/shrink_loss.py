"""Lp "shrink" loss of STLD (Jin et al., seed 003, Eq. 10-11).

``L_p(y_hat, y) = |y_hat - y|^p / p`` with ``p >= 1``. Its gradient ``sign(d) |d|^(p-1)``
down-weights small errors when ``p > 1``: a coarse regression that tolerates the small
offsets of noisy pseudo-labels. STLD shrinks ``p`` over the self-training rounds
(2.4 -> 1.6 -> 1.0) so that the last round is the standard L1 loss.
"""
from typing import Optional

from mmpose.registry import MODELS
from torch import Tensor, nn


def lp_shrink_loss(pred: Tensor, target: Tensor, p: float,
                   weight: Optional[Tensor] = None) -> Tensor:
    """Element-wise ``weight * |pred - target|^p / p`` (no reduction).

    Args:
        pred (Tensor): Predictions, any shape.
        target (Tensor): Targets, the shape of ``pred``.
        p (float): The power, ``p >= 1``.
        weight (Tensor, optional): Broadcastable to ``pred``. Defaults to None.

    Returns:
        Tensor: The loss of every element.
    """
    if p < 1:
        raise ValueError(f'the Lp shrink loss needs p >= 1 (got p={p}): p < 1 is not '
                         'convex and its gradient explodes at zero error')
    loss = (pred - target).abs().pow(p) / p
    if weight is not None:
        loss = loss * weight
    return loss


@MODELS.register_module()
class LpShrinkLoss(nn.Module):
    """Lp loss ``|y_hat - y|^p / p`` averaged over all elements (STLD shrink loss).

    The mean runs over every element of the batch, weighted ones included, as in the
    authors' release: a sample with weight 0 still counts in the denominator, so the
    labeled and pseudo-labeled terms of a mixed batch keep per-sample weights 1 and lambda.

    Args:
        p (float): The power, ``p >= 1``; ``p = 1`` is the L1 loss. Defaults to 1.0.
        use_target_weight (bool): Multiply by the keypoint weights. Defaults to True.
        loss_weight (float): Scale of the loss. Defaults to 1.0.
    """

    def __init__(self, p: float = 1.0, use_target_weight: bool = True,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if p < 1:
            raise ValueError(f'LpShrinkLoss needs p >= 1, got p={p}')
        self.p = float(p)
        self.use_target_weight = use_target_weight
        self.loss_weight = loss_weight

    def forward(self, output: Tensor, target: Tensor,
                target_weight: Optional[Tensor] = None, p: Optional[float] = None) -> Tensor:
        """Compute the loss.

        Args:
            output (Tensor): Predicted coordinates ``(B, K, D)``.
            target (Tensor): Target coordinates ``(B, K, D)``.
            target_weight (Tensor, optional): Weights ``(B, K)`` or ``(B, K, 1)``.
            p (float, optional): Overrides ``self.p`` for this call (the shrink schedule).

        Returns:
            Tensor: The scalar loss.
        """
        weight = None
        if self.use_target_weight and target_weight is not None:
            weight = target_weight
            while weight.dim() < output.dim():
                weight = weight.unsqueeze(-1)
        loss = lp_shrink_loss(output, target, self.p if p is None else float(p), weight)
        return loss.mean() * self.loss_weight

    def extra_repr(self) -> str:
        return f'p={self.p}, use_target_weight={self.use_target_weight}'
