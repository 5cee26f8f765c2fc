"""Per-class pseudo-label precision / recall and mean teacher score (seed Figs. 1, 2, 4).

Needs a CI-SSOD teacher-student detector (``CISoftTeacher`` / ``CISemiBaseDetector``) and
an unlabeled training set that keeps its ground truth: ``tools/misc/split_coco_imbalance.py``
writes the unlabeled split with every annotation (Soft Teacher's unlabeled pipeline loads
none of them - ``LoadEmptyAnnotations`` - so training never sees them), and the hook reads
them from the unlabeled dataset's ``get_data_info`` by image id, for analysis only::

    custom_hooks = [..., dict(type='CISSODPseudoLabelQualityHook', interval=500,
                               minority_classes=[...])]

Each iteration the detector hands over the pseudo-labels it kept (after the class-wise GbT
thresholds) for every unlabeled image, mapped back to the original image, and the teacher's
raw detections. A pseudo-label is correct when it overlaps a ground-truth box of its class
with IoU >= ``iou_thr``; a ground-truth box is recalled when a pseudo-label of its class
overlaps it so. Counts are kept per class as tensors and all-reduced every ``interval``
iterations (collective on every rank at the same iterations), then logged cumulatively
(since the start of training) through ``runner.visualizer.add_scalars``:
``ci_ssod_analysis/{precision,recall,mean_score,num_pseudo,num_correct,num_gt,num_recalled,
num_det}/<class>`` (read by ``tools/analysis/plot_ci_ssod_analysis.py``), and group values
(micro-averaged over the group's boxes) through the MessageHub: ``train/pl/precision_<group>``,
``train/pl/recall_<group>``, ``train/pl/score_<group>``.

The mean prediction score is that of the teacher's detections on unlabeled images (all
detections ``roi_head.predict`` returns, before any pseudo-label threshold), per predicted
class: the paper's Fig. 4 measure of how confident the model is in each class.
"""
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmdet.structures.bbox import bbox_overlaps
from mmengine.dist import all_reduce
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from torch import Tensor

#: rows of the count matrix
STATS = ('num_pseudo', 'num_correct', 'num_gt', 'num_recalled', 'score_sum', 'num_det')


def load_minority_classes(minority_classes: Optional[Sequence[str]],
                          class_groups_file: Optional[str]) -> Optional[List[str]]:
    """``minority_classes``, else the ``minority_classes`` of ``class_groups_file``."""
    if minority_classes is not None:
        return list(minority_classes)
    if class_groups_file is None:
        return None
    if not osp.isfile(class_groups_file):
        raise FileNotFoundError(f'class_groups_file not found: {class_groups_file}')
    with open(class_groups_file) as f:
        groups = json.load(f)
    if 'minority_classes' not in groups:
        raise KeyError(f"{class_groups_file} has no key 'minority_classes'")
    return list(groups['minority_classes'])


def match_pseudo_labels(boxes: Tensor, labels: Tensor, gt_boxes: Tensor, gt_labels: Tensor,
                        iou_thr: float = 0.5) -> Tuple[Tensor, Tensor]:
    """Which pseudo-labels are correct and which ground-truth boxes are recalled.

    Args:
        boxes (Tensor): (P, 4) pseudo boxes (x1, y1, x2, y2), labels (P, ).
        gt_boxes (Tensor): (G, 4) ground-truth boxes, gt_labels (G, ).
        iou_thr (float): IoU needed for a match (same class).

    Returns:
        tuple[Tensor, Tensor]: (P, ) bool correct, (G, ) bool recalled.
    """
    if len(boxes) == 0 or len(gt_boxes) == 0:
        return (torch.zeros(len(boxes), dtype=torch.bool, device=boxes.device),
                torch.zeros(len(gt_boxes), dtype=torch.bool, device=gt_boxes.device))
    match = (bbox_overlaps(boxes.float(), gt_boxes.float()) >= iou_thr) & \
        (labels[:, None] == gt_labels[None, :])
    return match.any(1), match.any(0)


def _unwrap(model):
    return model.module if is_model_wrapper(model) else model


@HOOKS.register_module()
class CISSODPseudoLabelQualityHook(Hook):
    """Pseudo-label precision / recall and mean teacher score per class (module docstring).

    Args:
        interval (int): Iterations between all-reduce and logging. Defaults to 500.
        iou_thr (float): IoU of a correct pseudo-label. Defaults to 0.5.
        minority_classes (Sequence[str], optional): Minority class names (group values
            'maj' / 'min'); None logs one 'all' group.
        class_groups_file (str, optional): JSON with key ``minority_classes``, used when
            ``minority_classes`` is None.
    """

    priority = 'ABOVE_NORMAL'  # before the LoggerHook reads the MessageHub

    def __init__(self,
                 interval: int = 500,
                 iou_thr: float = 0.5,
                 minority_classes: Optional[Sequence[str]] = None,
                 class_groups_file: Optional[str] = None) -> None:
        if interval < 1 or not 0 < iou_thr <= 1:
            raise ValueError(f'need interval >= 1 and 0 < iou_thr <= 1, got {interval}, '
                             f'{iou_thr}')
        self.interval = interval
        self.iou_thr = iou_thr
        self.minority_classes = load_minority_classes(minority_classes, class_groups_file)
        self.class_names: List[str] = []
        self._groups: Dict[str, Tensor] = {}
        self._pending: Optional[Tensor] = None
        self.totals: Optional[Tensor] = None  # (len(STATS), n) cumulative, all ranks
        self._unlabeled = None
        self._index_of: Optional[Dict[int, int]] = None
        self._gt_cache: Dict[int, Tuple[Tensor, Tensor]] = {}

    def before_train(self, runner) -> None:
        model = _unwrap(runner.model)
        if not hasattr(model, 'pop_analysis_records'):
            raise TypeError('CISSODPseudoLabelQualityHook needs a CI-SSOD teacher-student '
                            "detector (type='CISoftTeacher' or 'CISemiBaseDetector'), got "
                            f'{type(model).__name__}')
        dataset = runner.train_dataloader.dataset
        if not hasattr(dataset, 'datasets') or len(dataset.datasets) != 2:
            raise TypeError('CISSODPseudoLabelQualityHook needs train_dataloader.dataset = '
                            'ConcatDataset([labeled, unlabeled]) (the unlabeled one keeps its '
                            'ground truth, as tools/misc/split_coco_imbalance.py writes it)')
        self._unlabeled = dataset.datasets[1]
        num = model.gbt.num_classes
        classes = list(self._unlabeled.metainfo.get('classes', ()))
        self.class_names = classes if len(classes) == num else [str(i) for i in range(num)]
        if self.minority_classes is None:
            self._groups = dict(all=torch.ones(num, dtype=torch.bool))
        else:
            unknown = sorted(set(self.minority_classes) - set(self.class_names))
            if unknown:
                raise ValueError(f'CISSODPseudoLabelQualityHook: minority classes {unknown} '
                                 f'are not classes of the training set {self.class_names}')
            minority = torch.tensor([c in self.minority_classes for c in self.class_names])
            self._groups = dict(maj=~minority, min=minority)
        self._pending = torch.zeros(len(STATS), num, dtype=torch.float64)
        if self.totals is None:
            self.totals = torch.zeros_like(self._pending)
        model.analysis_records = dict(pseudo=[], detections=[])

    def ground_truth(self, img_id: int) -> Tuple[Tensor, Tensor]:
        """(boxes (G, 4), labels (G, )) of an unlabeled image, not ignored (cached)."""
        if img_id not in self._gt_cache:
            if self._index_of is None:
                self._index_of = {int(self._unlabeled.get_data_info(i)['img_id']): i
                                  for i in range(len(self._unlabeled))}
            if img_id not in self._index_of:
                raise KeyError(f'CISSODPseudoLabelQualityHook: image {img_id} is not in the '
                               'unlabeled dataset')
            instances = [ins for ins in self._unlabeled.get_data_info(
                self._index_of[img_id]).get('instances', []) if not ins.get('ignore_flag', 0)]
            boxes = torch.tensor([ins['bbox'] for ins in instances],
                                 dtype=torch.float32).reshape(-1, 4)
            labels = torch.tensor([ins['bbox_label'] for ins in instances], dtype=torch.long)
            self._gt_cache[img_id] = (boxes, labels)
        return self._gt_cache[img_id]

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        model = _unwrap(runner.model)
        records = model.pop_analysis_records()
        num = self._pending.size(1)
        pending = self._pending
        for img_id, boxes, labels, _ in records['pseudo']:
            gt_boxes, gt_labels = self.ground_truth(img_id)
            boxes, labels = boxes.detach().float().cpu(), labels.cpu()
            correct, recalled = match_pseudo_labels(boxes, labels, gt_boxes, gt_labels,
                                                    self.iou_thr)
            pending[0] += torch.bincount(labels, minlength=num)
            pending[1] += torch.bincount(labels[correct], minlength=num)
            pending[2] += torch.bincount(gt_labels, minlength=num)
            pending[3] += torch.bincount(gt_labels[recalled], minlength=num)
        if records['detections']:
            labels = torch.cat([d[0] for d in records['detections']]).cpu()
            scores = torch.cat([d[1] for d in records['detections']]).double().cpu()
            pending[4].index_add_(0, labels, scores)
            pending[5] += torch.bincount(labels, minlength=num)
        if self.every_n_train_iters(runner, self.interval):
            self._reduce_and_log(runner)

    def _reduce_and_log(self, runner) -> None:
        device = _unwrap(runner.model).gbt.mean_scores.device
        window = self._pending.to(device)
        all_reduce(window, op='sum')
        self.totals += window.cpu()
        self._pending.zero_()
        tot = self.totals
        ratio = dict(precision=(tot[1], tot[0]), recall=(tot[3], tot[2]),
                     mean_score=(tot[4], tot[5]))
        scalars = {}
        for name, (num, den) in ratio.items():
            values = torch.where(den > 0, num / den.clamp(min=1), torch.nan)
            scalars.update({f'ci_ssod_analysis/{name}/{c}': float(v)
                            for c, v in zip(self.class_names, values)})
        for name in STATS[:4] + STATS[5:]:
            vec = tot[STATS.index(name)]
            scalars.update({f'ci_ssod_analysis/{name}/{c}': float(v)
                            for c, v in zip(self.class_names, vec)})
        runner.visualizer.add_scalars(scalars, step=runner.iter + 1)
        hub = runner.message_hub
        for group, mask in self._groups.items():
            for name, key in (('precision', 'precision'), ('recall', 'recall'),
                              ('mean_score', 'score')):
                num, den = ratio[name]
                den_sum = float(den[mask].sum())
                if den_sum > 0:
                    hub.update_scalar(f'train/pl/{key}_{group}', float(num[mask].sum()) / den_sum)
