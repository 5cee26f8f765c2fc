"""Dual-output heatmap head for STLD's source-aware mixed training (HM model).

STLD's shrink regression for heatmaps trains pseudo-labeled samples on coarser Gaussians
(sigma_t from the curriculum, e.g. 2.2 -> 1.8 -> 1.5) while ground truth keeps sigma_std. As in
the authors' release, the pseudo-labeled samples then go through a *second* 1x1 output layer
(the main layer is masked for them) so the main output stays calibrated to sigma_std:
``loss = L_main(labeled) + lambda * L_shrink(pseudo)``, each term normalised by its own number
of samples. When sigma_t equals sigma_std (the last round) both sources share the main output
with per-sample weights 1 and lambda. Prediction always uses the main output, so the head is a
drop-in :class:`mmpose.models.heads.HeatmapHead`.
"""
import copy
from typing import Tuple

import torch
from mmpose.evaluation.functional import pose_pck_accuracy
from mmpose.models.heads import HeatmapHead
from mmpose.registry import MODELS
from mmpose.utils.tensor_utils import to_numpy
from mmpose.utils.typing import ConfigType, OptSampleList
from torch import Tensor, nn

from mmssl.datasets.transforms.stld_source import pseudo_flags


def zero_touch(module: nn.Module) -> Tensor:
    """``0 * sum(params)``: keeps unused parameters in the autograd graph (DDP needs it)."""
    return sum(p.sum() for p in module.parameters()) * 0.


@MODELS.register_module()
class STLDHeatmapHead(HeatmapHead):
    """:class:`HeatmapHead` with a second 1x1 output for pseudo-labeled samples.

    All arguments of :class:`HeatmapHead` are accepted, plus:

    Args:
        pseudo_loss_weight (float): lambda, the weight of the pseudo-labeled term.
            Defaults to 1.0.
        shrink_branch (bool): Train pseudo-labeled samples through the second output
            (``True`` while their sigma differs from the ground truth's). Defaults to False.

    Samples are pseudo-labeled when their metainfo says so (``STLDSetSource``); untagged
    samples are ground truth, so without tags the head behaves exactly like HeatmapHead.
    """

    #: what the self-training runner's curriculum controls for this head
    shrink_kind = 'heatmap_sigma'

    def __init__(self, *args, pseudo_loss_weight: float = 1.0, shrink_branch: bool = False,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if isinstance(self.final_layer, nn.Identity):
            raise ValueError('STLDHeatmapHead needs a final 1x1 layer (final_layer=None '
                             'leaves nothing to duplicate for the shrink output)')
        if pseudo_loss_weight < 0:
            raise ValueError(f'pseudo_loss_weight must be >= 0, got {pseudo_loss_weight}')
        self.shrink_layer = copy.deepcopy(self.final_layer)
        self.pseudo_loss_weight = float(pseudo_loss_weight)
        self.shrink_branch = bool(shrink_branch)

    def forward_both(self, feats: Tuple[Tensor]) -> Tuple[Tensor, Tensor]:
        """Main and shrink heatmaps ``(B, K, H, W)`` from shared deconv features.

        The layers are :class:`HeatmapHead`'s (``deconv_layers``, ``conv_layers``,
        ``final_layer``), so the main output is exactly ``HeatmapHead.forward``; the shrink
        layer reads the same features.
        """
        x = self.conv_layers(self.deconv_layers(feats[-1]))
        return self.final_layer(x), self.shrink_layer(x)

    def _subset_loss(self, output: Tensor, target: Tensor, weights: Tensor,
                     mask: Tensor) -> Tensor:
        if not bool(mask.any()):
            return output.sum() * 0.
        return self.loss_module(output[mask], target[mask], weights[mask])

    def loss(self, feats: Tuple[Tensor], batch_data_samples: OptSampleList,
             train_cfg: ConfigType = {}) -> dict:
        """Source-aware heatmap loss (see the module docstring).

        Returns:
            dict: ``loss_kpt`` (labeled / all samples), ``loss_kpt_pseudo`` (lambda-weighted
            shrink term, only with ``shrink_branch``), ``pseudo_frac`` and ``acc_pose``.
        """
        main, shrink = self.forward_both(feats)
        gt_heatmaps = torch.stack([d.gt_fields.heatmaps for d in batch_data_samples])
        weights = torch.cat(
            [d.gt_instance_labels.keypoint_weights for d in batch_data_samples])
        pseudo = torch.tensor(pseudo_flags(batch_data_samples), device=main.device)
        labeled = ~pseudo
        lam = self.pseudo_loss_weight
        losses = dict()
        if self.shrink_branch:
            losses['loss_kpt'] = self._subset_loss(main, gt_heatmaps, weights, labeled)
            losses['loss_kpt_pseudo'] = lam * self._subset_loss(shrink, gt_heatmaps, weights,
                                                                pseudo)
        else:
            sample_w = torch.where(pseudo, torch.full_like(weights[:, 0], lam),
                                   torch.ones_like(weights[:, 0]))
            losses['loss_kpt'] = self.loss_module(main, gt_heatmaps,
                                                  weights * sample_w[:, None])
            losses['loss_kpt'] = losses['loss_kpt'] + zero_touch(self.shrink_layer)
        losses['pseudo_frac'] = pseudo.float().mean()
        if train_cfg.get('compute_acc', True) and bool(labeled.any()):
            _, avg_acc, _ = pose_pck_accuracy(
                output=to_numpy(main[labeled]), target=to_numpy(gt_heatmaps[labeled]),
                mask=to_numpy(weights[labeled]) > 0)
            losses['acc_pose'] = torch.tensor(avg_acc, device=main.device)
        return losses
