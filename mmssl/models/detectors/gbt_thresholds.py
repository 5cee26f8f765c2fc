"""Gradient-based Thresholding (GbT): class-wise pseudo-label score thresholds.

For foreground class c (authors' release)::

    theta_c = clamp(min(tau * s_c / mean(s), tau / w_c), low, tau)

with ``tau`` Soft Teacher's ``cls_pseudo_thr`` (0.9), ``low`` its
``pseudo_label_initial_score_thr`` (0.5), ``w_c`` the GbR class weight and ``s_c`` a running
mean of the teacher's confidence in class c over its detections. Until class c has
``num_init`` detections ``s_c = sum / num_init`` (the release's start-up rule: rarely
detected classes get a lower mean and threshold); afterwards ``s_c`` is an EMA with
``momentum`` per detection. Before ``warmup_iters`` iterations every threshold is ``tau``.

The module also counts the pseudo-labels kept per class, for the logs. Statistics recorded
during an iteration are all-reduced by :meth:`ClassWiseThresholds.step` (once per iteration
on every rank), so every rank filters with the same thresholds.
"""
from typing import Dict, Optional

import torch
from mmengine.dist import all_reduce
from torch import Tensor, nn


def gbt_thresholds(mean_scores: Tensor,
                   class_weights: Optional[Tensor],
                   *,
                   base_thr: float = 0.9,
                   min_thr: float = 0.5,
                   eps: float = 1e-12) -> Tensor:
    """The GbT formula (see the module docstring).

    Args:
        mean_scores (Tensor): (n, ) running mean confidence per foreground class.
        class_weights (Tensor, optional): (n, ) or (n + 1, ) GbR weights; the background
            entry, if present, is ignored. None leaves the weight term out.

    Returns:
        Tensor: (n, ) thresholds in [min_thr, base_thr].
    """
    if not 0.0 <= min_thr <= base_thr <= 1.0:
        raise ValueError(f'need 0 <= min_thr <= base_thr <= 1, got {min_thr}, {base_thr}')
    mean_scores = mean_scores.float()
    thr = base_thr * mean_scores / mean_scores.mean().clamp(min=eps)
    if class_weights is not None:
        num = mean_scores.numel()
        if class_weights.numel() not in (num, num + 1):
            raise ValueError(f'class_weights has {class_weights.numel()} entries, expected '
                             f'{num} or {num + 1}')
        thr = torch.minimum(thr, base_thr / class_weights[:num].to(thr).clamp(min=eps))
    return thr.clamp(min_thr, base_thr)


class ClassWiseThresholds(nn.Module):
    """Running teacher confidences, GbT thresholds and pseudo-label counts.

    Args:
        num_classes (int): Foreground classes n.
        base_thr (float): tau, the fixed threshold (Soft Teacher ``cls_pseudo_thr``).
        min_thr (float): Lower clamp (Soft Teacher ``pseudo_label_initial_score_thr``).
        warmup_iters (int): Iterations with the fixed threshold. Defaults to 4000.
        momentum (float): Per-detection EMA keep rate of ``s_c``. Defaults to 0.999.
        num_init (int): Detections after which ``s_c`` switches to the EMA. Defaults to
            1000.
        enable (bool): False keeps every threshold at ``base_thr`` (ablation / baseline)
            while still logging confidences and counts. Defaults to True.
    """

    def __init__(self,
                 num_classes: int,
                 *,
                 base_thr: float = 0.9,
                 min_thr: float = 0.5,
                 warmup_iters: int = 4000,
                 momentum: float = 0.999,
                 num_init: int = 1000,
                 enable: bool = True) -> None:
        super().__init__()
        if not 0.0 <= min_thr <= base_thr <= 1.0:
            raise ValueError(f'need 0 <= min_thr <= base_thr <= 1, got {min_thr}, {base_thr}')
        if num_init < 1 or not 0.0 <= momentum < 1.0:
            raise ValueError(f'need num_init >= 1 and momentum in [0, 1), got {num_init}, '
                             f'{momentum}')
        self.num_classes = num_classes
        self.base_thr = base_thr
        self.min_thr = min_thr
        self.warmup_iters = warmup_iters
        self.momentum = momentum
        self.num_init = num_init
        self.enable = enable
        self.register_buffer('mean_scores', torch.zeros(num_classes))
        self.register_buffer('num_detections', torch.zeros(num_classes))
        self.register_buffer('thresholds', torch.full((num_classes, ), float(base_thr)))
        self.register_buffer('num_updates', torch.zeros((), dtype=torch.long))
        # columns: score sum, detections, kept pseudo-labels (per class); scratch only.
        self._pending: Optional[Tensor] = None
        self.last_pseudo_counts = torch.zeros(num_classes)

    def _pending_on(self, device: torch.device) -> Tensor:
        if self._pending is None or self._pending.device != device:
            self._pending = torch.zeros(3, self.num_classes, device=device)
        return self._pending

    @property
    def is_active(self) -> bool:
        return self.enable and int(self.num_updates) >= self.warmup_iters

    def observe(self, labels: Tensor, scores: Tensor) -> None:
        """Record teacher detections (labels (K, ), scores (K, )) of this iteration."""
        pending = self._pending_on(labels.device)
        pending[0].index_add_(0, labels.long(), scores.detach().float())
        pending[1].index_add_(0, labels.long(), torch.ones_like(scores, dtype=torch.float))

    def count_pseudo_labels(self, labels: Tensor) -> None:
        """Record the labels of the pseudo-labels kept for training this iteration."""
        pending = self._pending_on(labels.device)
        pending[2].index_add_(0, labels.long(),
                              torch.ones(labels.shape, device=labels.device))

    def get(self, device: Optional[torch.device] = None) -> Tensor:
        """Thresholds to filter with now (n, )."""
        thr = self.thresholds if self.is_active else torch.full_like(
            self.thresholds, self.base_thr)
        return thr if device is None else thr.to(device)

    @torch.no_grad()
    def step(self, class_weights: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """All-reduce this iteration's records, update ``s`` and the thresholds.

        Must be called on every rank once per iteration (collective all-reduce).

        Args:
            class_weights (Tensor, optional): Current GbR weights; None when the detector
                has no GbR loss.

        Returns:
            dict: ``pseudo_counts`` (n, ) kept pseudo-labels and ``detections`` (n, ) of this
            iteration, summed over ranks.
        """
        pending = self._pending_on(self.mean_scores.device)
        all_reduce(pending, op='sum')
        sums, counts, kept = pending.clone()
        pending.zero_()
        seen = counts > 0
        init = seen & (self.num_detections < self.num_init)
        ema = seen & ~init
        # Start-up: sum / num_init (the release's rule), counting at most num_init.
        room = ((self.num_init - self.num_detections) / counts.clamp(min=1.0)).clamp(max=1.0)
        self.mean_scores[init] += sums[init] * room[init] / self.num_init
        # EMA over the new detections, approximated by their mean.
        keep = torch.pow(torch.full_like(counts, self.momentum), counts)
        batch_mean = sums / counts.clamp(min=1.0)
        self.mean_scores[ema] = keep[ema] * self.mean_scores[ema] + (1 - keep[ema]) * \
            batch_mean[ema]
        self.num_detections += counts
        self.num_updates += 1
        if self.enable:
            self.thresholds.copy_(
                gbt_thresholds(
                    self.mean_scores,
                    class_weights,
                    base_thr=self.base_thr,
                    min_thr=self.min_thr))
        self.last_pseudo_counts = kept.cpu()
        return dict(pseudo_counts=kept, detections=counts)
