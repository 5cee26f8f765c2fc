"""Soft Teacher with class-imbalance handling: GbR, GbT and CrS records (seed 004).

A subclass of mmdet's ``SoftTeacher`` (nothing patched). Differences:

* the student's R-CNN classification loss runs in GbR branch 'sup' for labeled data and
  'unsup' for pseudo-labeled data (when ``loss_cls`` is a ``GbRCrossEntropyLoss``); the
  regression-only R-CNN pass of Soft Teacher runs with GbR off, so its discarded
  classification loss does not pollute the gradient statistics;
* the teacher's detections (before Soft Teacher's initial score filter) feed running
  per-class confidences, and the pseudo-labels of the R-CNN classification loss are
  filtered with the class-wise GbT thresholds (:mod:`.gbt_thresholds`) instead of the
  single ``cls_pseudo_thr``;
* kept pseudo-labels are counted per class and, when ``record_pseudo_labels`` is set (by
  ``CrSRefreshHook``), recorded per unlabeled image for class-rebalancing sampling.

Every method runs ``SoftTeacher``'s own (``super()``); the changes are made around it
(pre-filtered samples, GbR branch contexts, an observer of the teacher's detection pass), so
an mmdet fix of Soft Teacher reaches this class.

Extra ``semi_train_cfg`` key: ``gbt=dict(enable=True, warmup_iters=4000, momentum=0.999,
num_init=1000, rpn='fixed')``. ``rpn='fixed'`` (default, as the release) trains the student
RPN on the pseudo-labels above Soft Teacher's single ``rpn_pseudo_thr``, so a minority box
with ``theta_c < score < rpn_pseudo_thr`` is an R-CNN target but RPN background;
``rpn='class_wise'`` filters the RPN's pseudo-labels with the GbT thresholds as well (scaled
to ``rpn_pseudo_thr``, :meth:`CIPseudoLabelMixin.rpn_thresholds`). The per-iteration
statistics update is driven by ``CISSODStatisticsHook``.
"""
from contextlib import contextmanager
from typing import Iterator, Tuple

import torch
from mmdet.models.detectors import SoftTeacher
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.utils import InstanceList
from torch import Tensor

from .ci_pseudo_label_mixin import CIPseudoLabelMixin


@MODELS.register_module()
class CISoftTeacher(CIPseudoLabelMixin, SoftTeacher):
    """Class-imbalanced Soft Teacher (GbR + GbT, records for CrS).

    Args:
        detector (dict): Config of the two-stage detector (student and teacher).
        semi_train_cfg (dict): Soft Teacher's training config plus an optional ``gbt``
            dict (see the module docstring).
        semi_test_cfg (dict, optional): Soft Teacher's test config.
        data_preprocessor (dict, optional): ``MultiBranchDataPreprocessor`` config.
        init_cfg (dict, optional): Initialisation config.
    """

    # ------------------------------------------------------------- teacher
    @torch.no_grad()
    def get_pseudo_instances(self, batch_inputs: Tensor,
                             batch_data_samples: SampleList) -> Tuple[SampleList, dict]:
        """``SoftTeacher.get_pseudo_instances``; its raw detections (before the initial score
        filter ``pseudo_label_initial_score_thr``) also update the GbT confidences, as in
        the release."""
        with self._observing_teacher_detections():
            return super().get_pseudo_instances(batch_inputs, batch_data_samples)

    @contextmanager
    def _observing_teacher_detections(self) -> Iterator[None]:
        """Feed the results of the teacher R-CNN's next ``predict`` call to GbT.

        ``SoftTeacher.get_pseudo_instances`` calls ``teacher.roi_head.predict`` first for
        the detections, then (``compute_uncertainty_with_aug``) for the jittered boxes; only
        the first call is observed. The instance attribute shadowing the method is removed
        after that call and on exit.
        """
        roi_head = self.teacher.roi_head
        predict = roi_head.predict

        def observed_predict(*args, **kwargs) -> InstanceList:
            roi_head.__dict__.pop('predict', None)
            results = predict(*args, **kwargs)
            self.observe_teacher(results)
            return results

        roi_head.predict = observed_predict
        try:
            yield
        finally:
            roi_head.__dict__.pop('predict', None)

    # ------------------------------------------------------------ unlabeled
    def rpn_loss_by_pseudo_instances(self, x: Tuple[Tensor],
                                     batch_data_samples: SampleList) -> Tuple[dict, InstanceList]:
        """``SoftTeacher``'s RPN loss; with ``gbt.rpn='class_wise'`` on the pseudo-labels
        above the class-wise RPN thresholds (its ``rpn_pseudo_thr`` filter suspended).

        Not counted nor recorded: the R-CNN filter does that once per pseudo-label.
        """
        if self.gbt_rpn == 'fixed':
            return super().rpn_loss_by_pseudo_instances(x, batch_data_samples)
        kept = self.keep_above(batch_data_samples,
                               self.rpn_thresholds(self.data_preprocessor.device))
        with self.suspended_pseudo_thr('rpn_pseudo_thr'):
            return super().rpn_loss_by_pseudo_instances(x, kept)

    def rcnn_cls_loss_by_pseudo_instances(self, x: Tuple[Tensor],
                                          unsup_rpn_results_list: InstanceList,
                                          batch_data_samples: SampleList,
                                          batch_info: dict) -> dict:
        """``SoftTeacher``'s R-CNN classification loss on the pseudo-labels kept by the
        class-wise GbT thresholds (its ``cls_pseudo_thr`` filter suspended), GbR 'unsup'.

        When no RoI can be sampled in the whole batch (no proposal and no kept pseudo-label
        in any image) the box head returns no ``loss_cls``, which the parent indexes; a zero
        loss on the features is returned instead.
        """
        kept = self.filter_by_class_thresholds(batch_data_samples)
        if not any(len(r) for r in unsup_rpn_results_list) and \
                not any(len(s.gt_instances) for s in kept):
            return dict(loss_cls=sum(lvl.sum() for lvl in x) * 0.0)
        with self.class_wise_pseudo_thr(), self.gbr_branch('unsup'):
            return super().rcnn_cls_loss_by_pseudo_instances(x, unsup_rpn_results_list, kept,
                                                             batch_info)

    def rcnn_reg_loss_by_pseudo_instances(self, x: Tuple[Tensor],
                                          unsup_rpn_results_list: InstanceList,
                                          batch_data_samples: SampleList) -> dict:
        """Soft Teacher's regression loss; its discarded cls loss runs with GbR off."""
        with self.gbr_branch(None):
            return super().rcnn_reg_loss_by_pseudo_instances(x, unsup_rpn_results_list,
                                                             batch_data_samples)
