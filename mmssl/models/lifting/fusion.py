"""Fusion of a stage's belief maps with the belief maps projected from its lifted 3D pose."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from mmpose.registry import MODELS
from .functions import BeliefMapLifting
from .landmarks import DECODE_MODES, decode_landmarks
from .lifter import LiftingResult, PPCAMixtureLifter


@MODELS.register_module()
class LiftingBeliefFusion(nn.Module):
    """Lift belief maps, render projected belief maps and fuse them with learned weights.

    For stage ``s`` with belief maps ``b``: landmarks are decoded from every map
    (:func:`~.landmarks.decode_landmarks`, sub-pixel by default; a joint is visible when its
    maximum exceeds ``vis_thr``) and lifted to 3D by ``lifter``; the projected landmarks are
    rendered as Gaussians (``sigma`` cells, peak 1) into ``b_proj`` and the output is
    ``f = w_p b_proj + w_c b`` with ``(w_p, w_c) = softmax(logits_s)`` -- the paper's
    ``(w_p b_proj + w_c b) / (w_p + w_c)`` with the weights positive and normalised by
    construction, so no gradient step can make them negative or their sum zero.

    Initialisation: ``logits = log(w)`` of the normalised ``init_weights``; a zero weight
    (the paper's ``(0, 1)`` of early stages) has no finite logit and is raised to
    ``init_eps`` (``(eps, 1 - eps)``, a logit gap of ``log(eps / (1 - eps))`` = -6.9 for the
    default 1e-3): the fused maps start within 0.1 % of the stage's own maps. Under softmax
    the gradient of a small weight's logit is scaled by that weight; Adam (the config's
    optimizer) normalises the step per parameter, so the logit still moves at the learning
    rate, but the weight itself grows geometrically from ``eps`` rather than linearly from 0.

    ``enabled=False`` makes the fusion the identity (the stage's maps pass unchanged: the
    network is mmpose's CPM, the plain baseline of a fused-vs-plain study); outside training
    the stages are still lifted (without gradient) so per-stage 3D errors can be compared.

    Args:
        lifter: The 3D lifter (shared with the model).
        num_stages: Number of fused stages.
        init_weights: ``(w_p, w_c)`` per stage (``>= 0``, positive sum); default ``(0, 1)``
            for the first half of the stages and ``(0.5, 0.5)`` for the rest.
        init_eps: Smallest initial normalised weight (replaces zeros, see above).
        enabled: Fuse (True) or pass the belief maps through (False, plain CPM).
        decode: How landmarks are read from the maps, one of
            :data:`~.landmarks.DECODE_MODES` (``'gaussian'``: sub-pixel).
        backprop_lifting: Back-propagate through the lifting with the seed's sub-gradients
            (otherwise ``b_proj`` is a constant: the seed notes training works as well).
        vis_thr: Belief maximum below which a joint is treated as not visible.
        sigma: Width (cells) of the rendered Gaussians and of the update step.
        delta: Step of the difference of Gaussians (seed Eq. 9).
        update_scale: ``k`` of the belief update magnitude ``m = k ||dL/dY||``.
    """

    def __init__(self,
                 lifter: PPCAMixtureLifter,
                 num_stages: int,
                 init_weights: Optional[Sequence[Sequence[float]]] = None,
                 init_eps: float = 1e-3,
                 enabled: bool = True,
                 decode: str = 'gaussian',
                 backprop_lifting: bool = True,
                 vis_thr: float = 0.1,
                 sigma: float = 1.0,
                 delta: float = 1.0,
                 update_scale: float = 1.0) -> None:
        super().__init__()
        if decode not in DECODE_MODES:
            raise ValueError(f'decode must be one of {DECODE_MODES}, got {decode!r}')
        if not 0 < init_eps < 0.5:
            raise ValueError(f'init_eps must be in (0, 0.5), got {init_eps}')
        self.lifter = lifter
        self.num_stages = num_stages
        self.weight_logits = nn.Parameter(self.init_logits(num_stages, init_weights, init_eps))
        self.enabled = enabled
        self.decode = decode
        self.backprop_lifting = backprop_lifting
        self.vis_thr, self.sigma, self.delta, self.update_scale = vis_thr, sigma, delta, \
            update_scale
        self.last_results: List[Optional[LiftingResult]] = [None] * num_stages
        self.last_stats: Dict[str, Tensor] = {}

    @staticmethod
    def init_logits(num_stages: int, init_weights: Optional[Sequence[Sequence[float]]],
                    eps: float) -> Tensor:
        """Softmax logits ``(num_stages, 2)`` whose weights are ``init_weights`` normalised,
        with every weight at least ``eps`` (see the class docstring)."""
        if init_weights is None:
            early = (num_stages + 1) // 2
            init_weights = [(0., 1.)] * early + [(0.5, 0.5)] * (num_stages - early)
        init = torch.as_tensor(init_weights, dtype=torch.float64)
        if init.shape != (num_stages, 2):
            raise ValueError(f'init_weights must be {num_stages} pairs (w_proj, w_belief), got '
                             f'{list(map(list, init_weights))}')
        if (init < 0).any() or (init.sum(1) <= 0).any() or not torch.isfinite(init).all():
            raise ValueError(f'fusion weights must be >= 0 with a positive sum per stage, got '
                             f'{init.tolist()}')
        w = (init / init.sum(1, keepdim=True)).clamp(eps, 1 - eps)  # two weights: sum stays 1
        return w.log().float()

    @property
    def weights(self) -> Tensor:
        """Effective ``(num_stages, 2)`` ``(w_p, w_c)``: positive, each row sums to 1."""
        return self.weight_logits.softmax(-1)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        """Checkpoints of the earlier linear parameterisation (``weights``: raw ``(w_p, w_c)``)
        load as the logits of the same normalised weights."""
        old = state_dict.pop(prefix + 'weights', None)
        if old is not None and prefix + 'weight_logits' not in state_dict:
            w = old.double().clamp(min=0)
            w = (w / w.sum(1, keepdim=True).clamp(min=1e-12)).clamp(min=1e-12)
            state_dict[prefix + 'weight_logits'] = w.log().to(self.weight_logits.dtype)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def project(self, belief: Tensor) -> Tuple[Tensor, LiftingResult]:
        """Projected belief maps of ``belief`` ``(N, K, H, W)`` and the lifting result."""
        store = {}
        landmarks = None if self.decode == 'argmax' else decode_landmarks(belief,
                                                                          self.decode)[0]
        args = (self.lifter, self.vis_thr, self.sigma, self.delta, self.update_scale, store,
                landmarks)
        if self.backprop_lifting and torch.is_grad_enabled():
            proj = BeliefMapLifting.apply(belief, *args)
        else:
            with torch.no_grad():
                proj = BeliefMapLifting.apply(belief.detach(), *args)
        return proj, store['result']

    def forward(self, stage: int, belief: Tensor) -> Tensor:
        """Fused belief maps of stage ``stage`` (0-based among the fused stages).

        No host synchronisation: the statistics for the log (weights, fraction of lifted
        people) are kept as detached tensors in :attr:`last_stats` and read after the
        iteration (:meth:`LiftingTopdownPoseEstimator.parse_losses`).
        """
        if not self.enabled:
            if self.training:
                self.last_results[stage] = None
            else:  # per-stage 3D errors of the plain network
                with torch.no_grad():
                    self.last_results[stage] = self.project(belief)[1]
            return belief
        proj, res = self.project(belief)
        self.last_results[stage] = res
        w = self.weights[stage]
        fused = w[0] * proj.to(belief.dtype) + w[1] * belief
        if self.training:
            tag = f's{stage + 1}'
            self.last_stats[f'lift_w_proj_{tag}'] = w[0].detach()
            self.last_stats[f'lift_w_belief_{tag}'] = w[1].detach()
            self.last_stats[f'lift_valid_{tag}'] = res.valid.float().mean()
        return fused

    def pop_stats(self) -> Dict[str, Tensor]:
        """The statistics of the last training forward (detached 0-dim tensors), cleared."""
        stats, self.last_stats = self.last_stats, {}
        return stats

    def extra_repr(self) -> str:
        return (f'stages={self.num_stages}, enabled={self.enabled}, decode={self.decode!r}, '
                f'backprop_lifting={self.backprop_lifting}, vis_thr={self.vis_thr}')

