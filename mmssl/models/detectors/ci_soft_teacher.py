"""Soft Teacher with class-imbalance handling: GbR, GbT and CrS records (seed 004).

A subclass of mmdet's ``SoftTeacher`` (nothing patched). Differences:

* the student's R-CNN classification loss runs in GbR branch 'sup' for labeled data and
  'unsup' for pseudo-labeled data (when ``loss_cls`` is a ``GbRCrossEntropyLoss``); the
  regression-only R-CNN pass of Soft Teacher runs with GbR off, so its discarded
  classification loss does not pollute the gradient statistics;
* the teacher's detections feed running per-class confidences, and the pseudo-labels of the
  R-CNN classification loss are filtered with the class-wise GbT thresholds
  (:mod:`.gbt_thresholds`) instead of the single ``cls_pseudo_thr``;
* kept pseudo-labels are counted per class and, when ``record_pseudo_labels`` is set (by
  ``CrSRefreshHook``), recorded per unlabeled image for class-rebalancing sampling.

Extra ``semi_train_cfg`` key: ``gbt=dict(enable=True, warmup_iters=4000, momentum=0.999,
num_init=1000)``. The per-iteration statistics update is driven by ``CISSODStatisticsHook``.
"""
import copy
from typing import Tuple

import torch
from mmdet.models.detectors import SoftTeacher
from mmdet.models.utils import filter_gt_instances
from mmdet.models.utils.misc import unpack_gt_instances
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.structures.bbox import bbox2roi, bbox_project
from mmdet.utils import InstanceList
from mmengine.structures import InstanceData
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
        """Teacher detections as pseudo-instances, recording per-class confidences.

        Same steps as ``SoftTeacher.get_pseudo_instances``; the raw detections (before the
        initial score filter) update the GbT confidences, as in the release.
        """
        assert self.teacher.with_bbox, 'Bbox head must be implemented.'
        x = self.teacher.extract_feat(batch_inputs)
        if batch_data_samples[0].get('proposals', None) is None:
            rpn_results_list = self.teacher.rpn_head.predict(
                x, batch_data_samples, rescale=False)
        else:
            rpn_results_list = [s.proposals for s in batch_data_samples]
        results_list = self.teacher.roi_head.predict(
            x, rpn_results_list, batch_data_samples, rescale=False)
        for data_samples, results in zip(batch_data_samples, results_list):
            data_samples.gt_instances = results
        self.observe_teacher(batch_data_samples)
        batch_data_samples = filter_gt_instances(
            batch_data_samples, score_thr=self.semi_train_cfg.pseudo_label_initial_score_thr)
        reg_uncs_list = self.compute_uncertainty_with_aug(x, batch_data_samples)
        device = self.data_preprocessor.device
        batch_info = dict(feat=x, img_shape=[], homography_matrix=[], metainfo=[])
        for data_samples, reg_uncs in zip(batch_data_samples, reg_uncs_list):
            matrix = torch.from_numpy(data_samples.homography_matrix).to(device)
            data_samples.gt_instances['reg_uncs'] = reg_uncs
            data_samples.gt_instances.bboxes = bbox_project(
                data_samples.gt_instances.bboxes, matrix.inverse(), data_samples.ori_shape)
            batch_info['img_shape'].append(data_samples.img_shape)
            batch_info['homography_matrix'].append(matrix)
            batch_info['metainfo'].append(data_samples.metainfo)
        return batch_data_samples, batch_info

    # ------------------------------------------------------------ unlabeled
    def rcnn_cls_loss_by_pseudo_instances(self, x: Tuple[Tensor],
                                          unsup_rpn_results_list: InstanceList,
                                          batch_data_samples: SampleList,
                                          batch_info: dict) -> dict:
        """Soft Teacher's R-CNN classification loss with GbT filtering and GbR 'unsup'.

        As in ``SoftTeacher``: proposals are assigned to the kept pseudo-labels, negatives
        are weighted by the teacher's background score on the same boxes, and the loss is
        normalised by the sum of the label weights.
        """
        rpn_results_list = copy.deepcopy(unsup_rpn_results_list)
        cls_data_samples = self.filter_by_class_thresholds(batch_data_samples)
        batch_gt_instances, batch_gt_instances_ignore, _ = unpack_gt_instances(
            cls_data_samples)
        roi_head = self.student.roi_head
        sampling_results = []
        for i, rpn_results in enumerate(rpn_results_list):
            rpn_results.priors = rpn_results.pop('bboxes')
            assign_result = roi_head.bbox_assigner.assign(rpn_results, batch_gt_instances[i],
                                                          batch_gt_instances_ignore[i])
            sampling_results.append(
                roi_head.bbox_sampler.sample(
                    assign_result,
                    rpn_results,
                    batch_gt_instances[i],
                    feats=[lvl_feat[i][None] for lvl_feat in x]))
        selected_bboxes = [res.priors for res in sampling_results]
        rois = bbox2roi(selected_bboxes)
        bbox_results = roi_head._bbox_forward(x, rois)
        labels, label_weights, bbox_targets, bbox_weights = roi_head.bbox_head.get_targets(
            sampling_results, self.student.train_cfg.rcnn)

        teacher_boxes = []
        for bboxes, data_samples, teacher_matrix, teacher_shape in zip(
                selected_bboxes, batch_data_samples, batch_info['homography_matrix'],
                batch_info['img_shape']):
            student_matrix = torch.tensor(
                data_samples.homography_matrix, device=teacher_matrix.device)
            teacher_boxes.append(
                InstanceData(
                    bboxes=bbox_project(bboxes, teacher_matrix @ student_matrix.inverse(),
                                        teacher_shape)))
        with torch.no_grad():
            teacher_results = self.teacher.roi_head.predict_bbox(
                batch_info['feat'],
                batch_info['metainfo'],
                teacher_boxes,
                rcnn_test_cfg=None,
                rescale=False)
            bg_score = torch.cat([r.scores[:, -1] for r in teacher_results])
            neg = labels == roi_head.bbox_head.num_classes
            label_weights[neg] = bg_score[neg].detach()

        with self.gbr_branch('unsup'):
            losses = roi_head.bbox_head.loss(bbox_results['cls_score'],
                                             bbox_results['bbox_pred'], rois, labels,
                                             label_weights, bbox_targets, bbox_weights)
        if 'loss_cls' not in losses:  # no RoI in the whole batch (no proposal, no label)
            losses['loss_cls'] = bbox_results['cls_score'].sum() * 0.0
            return losses
        losses['loss_cls'] = losses['loss_cls'] * len(label_weights) / max(
            float(label_weights.sum()), 1.0)
        return losses

    def rcnn_reg_loss_by_pseudo_instances(self, x: Tuple[Tensor],
                                          unsup_rpn_results_list: InstanceList,
                                          batch_data_samples: SampleList) -> dict:
        """Soft Teacher's regression loss; its discarded cls loss runs with GbR off."""
        with self.gbr_branch(None):
            return super().rcnn_reg_loss_by_pseudo_instances(x, unsup_rpn_results_list,
                                                             batch_data_samples)
