"""GbR + GbT on mmdet's plain teacher-student detector (Unbiased-Teacher style).

mmdet 3.3 has no Unbiased Teacher; its ``SemiBaseDetector`` is the closest recipe: an EMA
teacher whose detections, filtered by a score threshold, are hard pseudo-labels for the whole
student loss (RPN and R-CNN). ``CISemiBaseDetector`` keeps that and adds the CI-SSOD parts:
GbR branches ('sup' for labeled, 'unsup' for pseudo-labeled data), class-wise GbT thresholds
instead of ``cls_pseudo_thr`` (the teacher's detections feed the running confidences) and
pseudo-label records for class-rebalancing sampling. Nothing of mmdet is patched.

Its parent trains RPN and R-CNN on one set of pseudo-labels, so the RPN always gets the
class-wise ones: ``semi_train_cfg.gbt.rpn`` may only be ``'class_wise'`` (its default).
"""
from typing import Optional, Tuple

import torch
from mmdet.models.detectors import SemiBaseDetector
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from torch import Tensor

from .ci_pseudo_label_mixin import CIPseudoLabelMixin


@MODELS.register_module()
class CISemiBaseDetector(CIPseudoLabelMixin, SemiBaseDetector):
    """Class-imbalanced mean-teacher detector with hard pseudo-labels (GbR + GbT + CrS).

    Args:
        detector (dict): Config of the detector (student and teacher); GbR needs a
            two-stage detector with a softmax box head.
        semi_train_cfg (dict): ``SemiBaseDetector``'s training config (``cls_pseudo_thr`` is
            GbT's base threshold) plus an optional ``gbt`` dict and
            ``pseudo_label_initial_score_thr`` (GbT's lower clamp, default 0.5).
        semi_test_cfg (dict, optional): Test config.
        data_preprocessor (dict, optional): ``MultiBranchDataPreprocessor`` config.
        init_cfg (dict, optional): Initialisation config.
    """

    gbt_rpn_modes = ('class_wise', )  # one filter for RPN and R-CNN (the parent's)

    @torch.no_grad()
    def get_pseudo_instances(self, batch_inputs: Tensor,
                             batch_data_samples: SampleList) -> Tuple[SampleList, dict]:
        """The teacher's detections (as ``SemiBaseDetector``), also fed to GbT."""
        batch_data_samples, batch_info = super().get_pseudo_instances(
            batch_inputs, batch_data_samples)
        self.observe_teacher([s.gt_instances for s in batch_data_samples])
        return batch_data_samples, batch_info

    def loss_by_pseudo_instances(self,
                                 batch_inputs: Tensor,
                                 batch_data_samples: SampleList,
                                 batch_info: Optional[dict] = None) -> dict:
        """``SemiBaseDetector``'s student loss on the pseudo-labels kept by the class-wise
        thresholds (its ``cls_pseudo_thr`` filter suspended), GbR branch 'unsup'; the loss
        weight is 0 when no pseudo-label is kept (as the parent)."""
        kept = self.filter_by_class_thresholds(batch_data_samples)
        with self.class_wise_pseudo_thr(), self.gbr_branch('unsup'):
            return super().loss_by_pseudo_instances(batch_inputs, kept, batch_info)
