"""COCO box AP on class groups: all / majority / minority (CI-SSOD), LVIS rare / common /
frequent.

``GroupCocoMetric`` is mmdet's ``CocoMetric`` plus group metrics computed the way COCO
computes AP: the mean of the precision array over IoU thresholds, recall points and the
classes of the group (area 'all', maxDets 100), ignoring classes without ground truth. The
results gain ``bbox_mAP_maj``, ``bbox_mAP_min``, ``bbox_mAP_50_maj``, ``bbox_mAP_50_min`` (and
``bbox_mAP_all``, equal to ``bbox_mAP`` up to rounding)::

    val_evaluator = dict(type='GroupCocoMetric', ann_file=..., metric='bbox',
                         minority_classes=['person', 'bicycle', ...])
    # or class_groups_file='.../ci_ssod_split1_classes.json' (written by
    # tools/misc/split_coco_imbalance.py; key 'minority_classes')

LVIS sub-task: ``frequency_groups=True`` adds ``bbox_mAP_r``, ``bbox_mAP_c``, ``bbox_mAP_f``
(and ``_50``) from the ``frequency`` field ('r' / 'c' / 'f') that LVIS v1 annotation files
give every category; ``minority_classes`` may then be omitted. This is COCO's evaluation
(exhaustive labels, ``maxDets`` 100), not LVIS's federated one (``lvis`` package, 300
detections): a common protocol for the groups, not the LVIS leaderboard number.

The group AP needs the precision array, which ``CocoMetric.compute_metrics`` does not keep,
so the box predictions it writes are evaluated a second time (one more ``COCOeval`` pass).
"""
import json
import os.path as osp
import tempfile
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmdet.datasets.api_wrappers import COCOeval
from mmdet.evaluation.metrics import CocoMetric
from mmdet.registry import METRICS
from mmengine.fileio import load
from mmengine.logging import MMLogger


def group_average_precision(precision: np.ndarray, class_mask: np.ndarray,
                            iou_index: Optional[int] = None) -> float:
    """COCO-style AP of a class group from ``COCOeval.eval['precision']``.

    Args:
        precision (np.ndarray): (T, R, K, A, M) precision array.
        class_mask (np.ndarray): (K, ) bool mask of the group's classes.
        iou_index (int, optional): A single IoU threshold index (0 = IoU 0.5); None
            averages over all thresholds.

    Returns:
        float: The AP, NaN if no class of the group has ground truth.
    """
    sub = precision[:, :, class_mask, 0, -1]
    if iou_index is not None:
        sub = sub[iou_index]
    valid = sub[sub > -1]
    return float(np.mean(valid)) if valid.size else float('nan')


@METRICS.register_module()
class GroupCocoMetric(CocoMetric):
    """``CocoMetric`` with AP on majority and minority classes.

    Args:
        minority_classes (Sequence[str], optional): Names of the minority classes.
        class_groups_file (str, optional): JSON file with key ``minority_classes``;
            used when ``minority_classes`` is None.
        frequency_groups (bool): Also report the LVIS rare / common / frequent groups read
            from the categories' ``frequency`` field. Defaults to False.
        **kwargs: ``CocoMetric`` arguments; ``metric`` must include 'bbox'.
    """

    FREQUENCY_GROUPS = ('r', 'c', 'f')

    def __init__(self,
                 minority_classes: Optional[Sequence[str]] = None,
                 class_groups_file: Optional[str] = None,
                 frequency_groups: bool = False,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.ann_file = kwargs.get('ann_file')  # named in errors
        if 'bbox' not in self.metrics:
            raise ValueError(f"GroupCocoMetric needs metric='bbox', got {self.metrics}")
        self.frequency_groups = frequency_groups
        if self._coco_api is not None:  # LVIS files have no 'iscrowd', which COCOeval reads
            for ann in self._coco_api.anns.values():
                ann.setdefault('iscrowd', 0)
        self.minority_classes: Optional[List[str]] = None
        if minority_classes is None and class_groups_file is None:
            if not frequency_groups:
                raise ValueError('GroupCocoMetric needs minority_classes, class_groups_file '
                                 'or frequency_groups=True')
            return
        if minority_classes is None:
            if not osp.isfile(class_groups_file):
                raise FileNotFoundError(f'class_groups_file not found: {class_groups_file}')
            with open(class_groups_file) as f:
                groups = json.load(f)
            if 'minority_classes' not in groups:
                raise KeyError(f"{class_groups_file} has no key 'minority_classes'")
            minority_classes = groups['minority_classes']
        self.minority_classes = list(minority_classes)
        if not self.minority_classes:
            raise ValueError('minority_classes is empty')

    def _minority_mask(self) -> np.ndarray:
        classes = list(self.dataset_meta['classes'])
        unknown = sorted(set(self.minority_classes) - set(classes))
        if unknown:
            raise ValueError(f'GroupCocoMetric: minority classes {unknown} are not classes of '
                             f'the evaluated dataset {classes}')
        names = [self._coco_api.loadCats(cat_id)[0]['name'] for cat_id in self.cat_ids]
        return np.array([name in self.minority_classes for name in names])

    def _frequency_masks(self) -> Dict[str, np.ndarray]:
        """Masks of the LVIS frequency groups over ``self.cat_ids``."""
        cats = self._coco_api.loadCats(self.cat_ids)
        missing = [c.get('name', c['id']) for c in cats if c.get('frequency') not in
                   self.FREQUENCY_GROUPS]
        if missing:
            raise ValueError(
                f'GroupCocoMetric(frequency_groups=True): categories {missing[:5]} of '
                f'{self.ann_file} have no LVIS frequency (r / c / f)')
        freq = np.array([c['frequency'] for c in cats])
        return OrderedDict((g, freq == g) for g in self.FREQUENCY_GROUPS)

    def class_groups(self) -> Dict[str, np.ndarray]:
        """Group name -> class mask over ``self.cat_ids`` ('all', then 'maj' / 'min' and / or
        'r' / 'c' / 'f')."""
        groups: Dict[str, np.ndarray] = OrderedDict(all=np.ones(len(self.cat_ids), bool))
        if self.minority_classes is not None:
            minority = self._minority_mask()
            groups.update(maj=~minority, min=minority)
        if self.frequency_groups:
            groups.update(self._frequency_masks())
        return groups

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """``CocoMetric`` results plus the group APs (see the module docstring)."""
        own_tmp = None
        if self.outfile_prefix is None:
            own_tmp = tempfile.TemporaryDirectory()
            self.outfile_prefix = osp.join(own_tmp.name, 'results')
        try:
            eval_results = super().compute_metrics(results)
            if not self.format_only:
                eval_results.update(self._group_metrics(f'{self.outfile_prefix}.bbox.json'))
        finally:
            if own_tmp is not None:
                self.outfile_prefix = None
                own_tmp.cleanup()
        return eval_results

    def _group_metrics(self, bbox_json: str) -> Dict[str, float]:
        logger = MMLogger.get_current_instance()
        out: Dict[str, float] = OrderedDict()
        groups = self.class_groups()
        keys = [f'bbox_mAP{s}_{g}' for s in ('', '_50') for g in groups]
        predictions = load(bbox_json) if osp.isfile(bbox_json) else []
        if not predictions:
            logger.error('GroupCocoMetric: no box predictions; group APs are NaN')
            return OrderedDict((k, float('nan')) for k in keys)
        coco_eval = COCOeval(self._coco_api, self._coco_api.loadRes(predictions), 'bbox')
        coco_eval.params.catIds = self.cat_ids
        coco_eval.params.imgIds = self.img_ids
        coco_eval.params.maxDets = list(self.proposal_nums)
        coco_eval.params.iouThrs = self.iou_thrs
        coco_eval.evaluate()
        coco_eval.accumulate()
        precision = coco_eval.eval['precision']
        for suffix, iou_index in (('', None), ('_50', 0)):
            for group, mask in groups.items():
                ap = group_average_precision(precision, mask, iou_index)
                out[f'bbox_mAP{suffix}_{group}'] = round(ap, 3)
        logger.info('AP ' + ' / '.join(groups) + ': ' +
                    ' / '.join(f"{out[f'bbox_mAP_{g}']:.3f}" for g in groups))
        return out
