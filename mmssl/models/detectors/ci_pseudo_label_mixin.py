"""Shared CI-SSOD machinery of teacher-student detectors (GbR branches, GbT, CrS records).

``CISoftTeacher`` and ``CISemiBaseDetector`` mix it in before their mmdet parent
(``SoftTeacher``, ``SemiBaseDetector``) so that the pseudo-label bookkeeping lives in one
place: ``__init__`` builds the GbT state after the parent's, ``loss_by_gt_instances`` runs
the parent's supervised loss in GbR branch 'sup', and the detectors run the parent's
pseudo-label losses on the samples kept by
:meth:`CIPseudoLabelMixin.filter_by_class_thresholds`, with the parent's own filter (the
single ``cls_pseudo_thr``) suspended by :meth:`CIPseudoLabelMixin.class_wise_pseudo_thr`.
The mmdet bodies are not copied, so fixes of the parents reach the CI-SSOD detectors.

Extra ``semi_train_cfg`` key: ``gbt=dict(enable=True, warmup_iters=4000, momentum=0.999,
num_init=1000, rpn='fixed')`` (the warm-up defaults to the GbR loss's). ``rpn`` says which
pseudo-labels train the RPN of a detector that has its own RPN filter (Soft Teacher's
``rpn_pseudo_thr``): ``'fixed'`` keeps that single threshold (the release), ``'class_wise'``
filters them with the GbT thresholds too (see :meth:`CIPseudoLabelMixin.rpn_thresholds`).
Detectors whose parent trains RPN and R-CNN on one set of pseudo-labels accept only the mode
they implement (:attr:`CIPseudoLabelMixin.gbt_rpn_modes`). The per-iteration statistics
update is driven by ``CISSODStatisticsHook``; pseudo-label records by ``CrSRefreshHook``.
"""
import copy
from contextlib import ExitStack, contextmanager
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmdet.structures import SampleList
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from mmengine.structures import InstanceData
from torch import Tensor

from .gbr_loss import GbRCrossEntropyLoss
from .gbt_thresholds import ClassWiseThresholds

_GBT_KEYS = {'enable', 'warmup_iters', 'momentum', 'num_init', 'rpn'}


class CIPseudoLabelMixin:
    """GbR branch switching, GbT thresholds and CrS records for teacher-student detectors.

    Put it before the mmdet detector in the bases; the constructor arguments are the
    detector's (``SemiBaseDetector``'s).
    """

    #: Accepted ``semi_train_cfg.gbt.rpn`` modes; the first is the default.
    gbt_rpn_modes: Tuple[str, ...] = ('fixed', 'class_wise')

    def __init__(self,
                 detector: ConfigType,
                 semi_train_cfg: OptConfigType = None,
                 semi_test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            detector=detector,
            semi_train_cfg=semi_train_cfg,
            semi_test_cfg=semi_test_cfg,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.init_ci_ssod()

    def init_ci_ssod(self) -> None:
        """Build the GbT state from ``semi_train_cfg`` (run at the end of ``__init__``)."""
        gbt_cfg = dict(self.semi_train_cfg.get('gbt', {}))
        unknown = set(gbt_cfg) - _GBT_KEYS
        if unknown:
            raise ValueError(f'semi_train_cfg.gbt: unknown keys {sorted(unknown)} (allowed: '
                             f'{sorted(_GBT_KEYS)})')
        gbr = self.gbr_loss
        if gbr is not None:
            missing = {'sup', 'unsup'} - set(gbr.branch_names)
            if missing:
                raise ValueError(f'{type(self).__name__}: the GbRCrossEntropyLoss needs the '
                                 f"branches 'sup' and 'unsup', missing {sorted(missing)}")
            gbt_cfg.setdefault('warmup_iters', gbr.warmup_iters)
        self.gbt_rpn = gbt_cfg.pop('rpn', self.gbt_rpn_modes[0])
        if self.gbt_rpn not in self.gbt_rpn_modes:
            raise ValueError(f'semi_train_cfg.gbt.rpn={self.gbt_rpn!r} is not supported by '
                             f'{type(self).__name__} (allowed: {list(self.gbt_rpn_modes)})')
        self.gbt = ClassWiseThresholds(
            self.student.roi_head.bbox_head.num_classes,
            base_thr=self.semi_train_cfg.cls_pseudo_thr,
            min_thr=self.semi_train_cfg.get('pseudo_label_initial_score_thr', 0.5),
            **gbt_cfg)
        self.record_pseudo_labels = False
        self._pseudo_records: List[Tuple[int, np.ndarray, np.ndarray]] = []
        # Analysis records (set to a list by CISSODPseudoLabelQualityHook): kept pseudo-labels
        # in original image coordinates and the teacher's detections, per iteration.
        self.analysis_records: Optional[Dict[str, list]] = None

    @property
    def gbr_loss(self) -> Optional[GbRCrossEntropyLoss]:
        """The student's GbR classification loss, or None if it uses another loss."""
        roi_head = getattr(self.student, 'roi_head', None)
        loss = getattr(getattr(roi_head, 'bbox_head', None), 'loss_cls', None)
        return loss if isinstance(loss, GbRCrossEntropyLoss) else None

    def gbr_branch(self, name: Optional[str]) -> ExitStack:
        """Context selecting the GbR branch of the student's loss (no-op without GbR)."""
        stack = ExitStack()
        if self.gbr_loss is not None:
            stack.enter_context(self.gbr_loss.branch(name))
        return stack

    def loss_by_gt_instances(self, batch_inputs: Tensor,
                             batch_data_samples: SampleList) -> dict:
        """Supervised loss (the detector's) with GbR in the 'sup' branch."""
        with self.gbr_branch('sup'):
            return super().loss_by_gt_instances(batch_inputs, batch_data_samples)

    def pop_pseudo_label_records(self) -> List[Tuple[int, np.ndarray, np.ndarray]]:
        """(img_id, labels, score - threshold) of the pseudo-labels kept since last call."""
        records, self._pseudo_records = self._pseudo_records, []
        return records

    @torch.no_grad()
    def step_ci_statistics(self) -> Dict[str, Tensor]:
        """Per-iteration GbT update (collective; called by ``CISSODStatisticsHook``).

        Returns:
            dict: ``thr`` thresholds in use, ``score`` running confidences and ``pseudo``
            kept pseudo-labels of this iteration, per class.
        """
        gbr = self.gbr_loss
        # The GbR weights are solved also with reweight=False ("GbT only": thresholds from
        # the gradient balance, plain cross entropy); they are 1 during the warm-up.
        weights = gbr.class_weights if gbr is not None else None
        out = self.gbt.step(weights)
        return dict(thr=self.gbt.get(), score=self.gbt.mean_scores.clone(),
                    pseudo=out['pseudo_counts'])

    def observe_teacher(self, detections: Sequence[InstanceData]) -> None:
        """Feed the teacher's detections (per image, with ``labels`` and ``scores``) to GbT."""
        labels = [d.labels for d in detections]
        if labels and sum(len(x) for x in labels):
            labels, scores = torch.cat(labels), torch.cat([d.scores for d in detections])
            self.gbt.observe(labels, scores)
            if self.analysis_records is not None:
                self.analysis_records['detections'].append((labels.detach(), scores.detach()))

    def pop_analysis_records(self) -> Dict[str, list]:
        """Analysis records since the last call: ``pseudo`` = (img_id, boxes (K, 4) in the
        original image, labels, scores) of every unlabeled image's kept pseudo-labels,
        ``detections`` = (labels, scores) of the teacher's detections."""
        records = self.analysis_records
        if records is None:
            raise RuntimeError(f'{type(self).__name__}: analysis records are off (set '
                               'analysis_records = dict(pseudo=[], detections=[]))')
        self.analysis_records = dict(pseudo=[], detections=[])
        return records

    @staticmethod
    def boxes_in_original_image(data_samples) -> Tensor:
        """The sample's ``gt_instances.bboxes`` mapped back to its original image (inverse
        of its ``homography_matrix``, as mmdet's teacher does), clipped to ``ori_shape``."""
        from mmdet.structures.bbox import bbox_project
        boxes = data_samples.gt_instances.bboxes
        matrix = data_samples.metainfo.get('homography_matrix')
        if matrix is None:
            return boxes
        matrix = torch.as_tensor(np.asarray(matrix), dtype=boxes.dtype, device=boxes.device)
        return bbox_project(boxes, matrix.inverse(), data_samples.ori_shape)

    @contextmanager
    def suspended_pseudo_thr(self, key: str = 'cls_pseudo_thr') -> Iterator[None]:
        """Suspend one of the parent's single-threshold pseudo-label filters.

        mmdet's ``SemiBaseDetector.loss_by_pseudo_instances`` and
        ``SoftTeacher.rcnn_cls_loss_by_pseudo_instances`` keep the pseudo-labels with
        ``score > semi_train_cfg.cls_pseudo_thr``, ``SoftTeacher.rpn_loss_by_pseudo_instances``
        those with ``score > rpn_pseudo_thr``. The CI-SSOD detectors hand them samples already
        filtered by the class-wise GbT thresholds, so inside this context
        ``semi_train_cfg[key]`` is -inf and the parent's filter keeps everything; it is
        restored on exit (also on errors).
        """
        cfg = self.semi_train_cfg
        if key not in cfg:
            raise KeyError(f'{type(self).__name__}: semi_train_cfg has no {key!r}')
        base_thr = cfg[key]
        cfg[key] = float('-inf')
        try:
            yield
        finally:
            cfg[key] = base_thr

    def class_wise_pseudo_thr(self):
        """:meth:`suspended_pseudo_thr` of ``cls_pseudo_thr`` (the R-CNN / student filter)."""
        return self.suspended_pseudo_thr('cls_pseudo_thr')

    def rpn_thresholds(self, device: Optional[torch.device] = None) -> Tensor:
        """Class-wise RPN thresholds (n, ): ``theta_c * rpn_pseudo_thr / cls_pseudo_thr``.

        The GbT thresholds are relative to ``cls_pseudo_thr`` (tau); scaling them keeps the
        RPN's own level: with the usual ``rpn_pseudo_thr == cls_pseudo_thr`` (0.9) they are
        ``theta_c``, and before the GbT warm-up ends (``theta_c = tau``) they equal the fixed
        ``rpn_pseudo_thr``, so both modes train identically until then.
        """
        cfg = self.semi_train_cfg
        scale = float(cfg.rpn_pseudo_thr) / float(cfg.cls_pseudo_thr)
        return self.gbt.get(device) * scale

    @staticmethod
    def keep_above(batch_data_samples: SampleList, thr: Tensor) -> SampleList:
        """Copies of the samples keeping the pseudo-labels with ``score > thr[label]``."""
        kept_samples = copy.deepcopy(batch_data_samples)
        for data_samples in kept_samples:
            gt = data_samples.gt_instances
            if len(gt):
                data_samples.gt_instances = gt[gt.scores > thr[gt.labels]]
        return kept_samples

    def filter_by_class_thresholds(self, batch_data_samples: SampleList) -> SampleList:
        """Copies of the samples keeping pseudo-labels with score > theta[label]; counts
        them per class and, after the GbT warm-up and when ``record_pseudo_labels`` is set,
        records them for CrS."""
        thr = self.gbt.get(self.data_preprocessor.device)
        kept_samples = self.keep_above(batch_data_samples, thr)
        record = self.record_pseudo_labels and self.gbt.is_active
        for data_samples in kept_samples:
            kept = data_samples.gt_instances
            if len(kept) == 0:
                if self.analysis_records is not None:  # its ground truth counts for recall
                    self.analysis_records['pseudo'].append(
                        (int(data_samples.img_id), torch.zeros(0, 4), torch.zeros(
                            0, dtype=torch.long), torch.zeros(0)))
                if record:
                    self._pseudo_records.append((int(data_samples.img_id),
                                                 np.zeros(0, np.int64), np.zeros(0, np.float32)))
                continue
            self.gbt.count_pseudo_labels(kept.labels)
            if self.analysis_records is not None:
                self.analysis_records['pseudo'].append(
                    (int(data_samples.img_id), self.boxes_in_original_image(data_samples),
                     kept.labels.detach(), kept.scores.detach()))
            if record:
                self._pseudo_records.append(
                    (int(data_samples.img_id), kept.labels.cpu().numpy().astype(np.int64),
                     (kept.scores - thr[kept.labels]).float().cpu().numpy()))
        return kept_samples
