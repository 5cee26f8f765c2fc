"""Fusion of a stage's belief maps with the belief maps projected from its lifted 3D pose."""
from typing import List, Optional, Sequence, Tuple

import torch
from mmengine.logging import MessageHub
from torch import Tensor, nn

from mmpose.registry import MODELS
from .functions import BeliefMapLifting
from .lifter import LiftingResult, PPCAMixtureLifter


@MODELS.register_module()
class LiftingBeliefFusion(nn.Module):
    """Lift belief maps, render projected belief maps and fuse them with learned weights.

    For stage ``s`` with belief maps ``b``: landmarks are the per-joint argmax (visible when
    the maximum exceeds ``vis_thr``), lifted to 3D by ``lifter``; the projected landmarks are
    rendered as Gaussians (``sigma`` pixels, peak 1) into ``b_proj`` and the output is
    ``f = (w_p b_proj + w_c b) / (w_p + w_c)`` with two learned scalars per stage.

    Args:
        lifter: The 3D lifter (shared with the model).
        num_stages: Number of fused stages.
        init_weights: ``(w_p, w_c)`` per stage; default ``(0, 1)`` for the first half of the
            stages and ``(0.5, 0.5)`` for the rest.
        backprop_lifting: Back-propagate through the lifting with the seed's sub-gradients
            (otherwise ``b_proj`` is a constant: the seed notes training works as well).
        vis_thr: Belief maximum below which a joint is treated as not visible.
        sigma: Width (pixels) of the rendered Gaussians and of the update step.
        delta: Step of the difference of Gaussians (seed Eq. 9).
        update_scale: ``k`` of the belief update magnitude ``m = k ||dL/dY||``.
    """

    def __init__(self,
                 lifter: PPCAMixtureLifter,
                 num_stages: int,
                 init_weights: Optional[Sequence[Sequence[float]]] = None,
                 backprop_lifting: bool = True,
                 vis_thr: float = 0.1,
                 sigma: float = 1.0,
                 delta: float = 1.0,
                 update_scale: float = 1.0) -> None:
        super().__init__()
        if init_weights is None:
            early = (num_stages + 1) // 2
            init_weights = [(0., 1.)] * early + [(0.5, 0.5)] * (num_stages - early)
        init = torch.as_tensor(init_weights, dtype=torch.float32)
        if init.shape != (num_stages, 2):
            raise ValueError(f'init_weights must be {num_stages} pairs (w_proj, w_belief), got '
                             f'{list(map(list, init_weights))}')
        if (init < 0).any() or (init.sum(1) <= 0).any():
            raise ValueError(f'fusion weights must be >= 0 with a positive sum per stage, got '
                             f'{init.tolist()}')
        self.lifter = lifter
        self.weights = nn.Parameter(init)
        self.backprop_lifting = backprop_lifting
        self.vis_thr, self.sigma, self.delta, self.update_scale = vis_thr, sigma, delta, \
            update_scale
        self.last_results: List[Optional[LiftingResult]] = [None] * num_stages

    def project(self, belief: Tensor) -> Tuple[Tensor, LiftingResult]:
        """Projected belief maps of ``belief`` ``(N, K, H, W)`` and the lifting result."""
        store = {}
        args = (self.lifter, self.vis_thr, self.sigma, self.delta, self.update_scale, store)
        if self.backprop_lifting and torch.is_grad_enabled():
            proj = BeliefMapLifting.apply(belief, *args)
        else:
            with torch.no_grad():
                proj = BeliefMapLifting.apply(belief.detach(), *args)
        return proj, store['result']

    def forward(self, stage: int, belief: Tensor) -> Tensor:
        """Fused belief maps of stage ``stage`` (0-based among the fused stages)."""
        proj, res = self.project(belief)
        self.last_results[stage] = res
        w_p, w_c = self.weights[stage, 0], self.weights[stage, 1]
        fused = (w_p * proj.to(belief.dtype) + w_c * belief) / (w_p + w_c).clamp(min=1e-6)
        if self.training:  # reaches every visualizer backend through the LoggerHook
            hub = MessageHub.get_current_instance()
            w = self.weights.detach()
            hub.update_scalar(f'train/lift_w_proj_s{stage + 1}', w[stage, 0].item())
            hub.update_scalar(f'train/lift_w_belief_s{stage + 1}', w[stage, 1].item())
            hub.update_scalar(f'train/lift_valid_s{stage + 1}', res.valid.float().mean().item())
        return fused
