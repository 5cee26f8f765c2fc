"""MMPose's Convolutional Pose Machine with the lifting layer between stages."""
import copy
from typing import List, Optional, Sequence, Union

import torch
from torch import Tensor

from mmpose.models.backbones import CPM
from mmpose.registry import MODELS
from .fusion import LiftingBeliefFusion
from .lifter import PPCAMixtureLifter


@MODELS.register_module()
class LiftingCPM(CPM):
    """CPM whose stages ``s < S`` feed the next stage with lifted-and-fused belief maps.

    After each stage but the last, the stage's belief maps are lifted to 3D with the
    probabilistic pose model, the projected landmarks are rendered as belief maps and fused
    with the stage's maps by two learned weights (:class:`LiftingBeliefFusion`); the fused maps
    are the stage's output (the per-stage loss of ``CPMHead`` applies to them) and the input of
    the next stage. The last stage's maps are returned unchanged; the estimator
    (:class:`LiftingTopdownPoseEstimator`) lifts them to the final 3D pose.

    Args:
        lifter: Config of the lifter (e.g. ``dict(type='PPCAMixtureLifter',
            prior='pose_prior.npz')``) or a lifter instance.
        fusion: Keyword arguments of :class:`LiftingBeliefFusion` (``init_weights``,
            ``init_eps``, ``enabled`` (False: plain CPM), ``decode``, ``backprop_lifting``,
            ``vis_thr``, ``sigma``, ``delta``, ``update_scale``).
        **kwargs: Arguments of :class:`mmpose.models.backbones.CPM`.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 lifter: Union[dict, PPCAMixtureLifter],
                 fusion: Optional[dict] = None,
                 feat_channels: int = 128,
                 middle_channels: int = 32,
                 num_stages: int = 6,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 init_cfg: Optional[Union[dict, List[dict]]] = [
                     dict(type='Normal', std=0.001, layer=['Conv2d']),
                     dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
                 ]) -> None:
        super().__init__(in_channels, out_channels, feat_channels=feat_channels,
                         middle_channels=middle_channels, num_stages=num_stages,
                         norm_cfg=norm_cfg, init_cfg=init_cfg)
        if num_stages < 2:
            raise ValueError(f'LiftingCPM needs num_stages >= 2 to fuse, got {num_stages}')
        if isinstance(lifter, dict):
            lifter = MODELS.build(copy.deepcopy(lifter))
        if not isinstance(lifter, PPCAMixtureLifter):
            raise TypeError(f'lifter must build a PPCAMixtureLifter, got {type(lifter)}')
        if lifter.num_joints != out_channels:
            raise ValueError(f'the pose model has {lifter.num_joints} joints but the CPM '
                             f'predicts {out_channels} belief maps ({lifter.prior.source})')
        self.fusion = LiftingBeliefFusion(lifter, num_stages - 1, **(fusion or {}))

    def forward(self, x: Tensor) -> List[Tensor]:
        """Belief maps of every stage: fused for stages ``s < S``, raw for the last."""
        middle_out = self.middle(x)
        belief = self.stem(x)
        outs = []
        for ind in range(self.num_stages - 1):
            fused = self.fusion(ind, belief)
            outs.append(fused)
            inp = torch.cat([fused, self.middle_conv[ind](middle_out)], 1)
            belief = self.out_convs[ind](self.cpm_stages[ind](inp))
        outs.append(belief)
        return outs

    @property
    def lifter(self) -> PPCAMixtureLifter:
        """The lifter (registered once, under ``fusion.lifter``)."""
        return self.fusion.lifter

    @property
    def fusion_weights(self) -> Tensor:
        """``(S - 1, 2)`` effective ``(w_proj, w_belief)`` per fused stage (softmax of the
        learned logits: positive, rows sum to 1)."""
        return self.fusion.weights

    def stage_liftings(self) -> Sequence:
        """The :class:`LiftingResult` of every fused stage from the last forward (``None``
        for stages that were not lifted: a disabled fusion in training)."""
        return list(self.fusion.last_results)
