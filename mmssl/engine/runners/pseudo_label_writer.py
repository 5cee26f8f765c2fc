"""Pseudo-label writing as an mmengine metric, plus a progress bar for the labelling pass.

Pseudo-labelling *is* mmengine's test loop over the unlabeled set: every rank predicts its
shard (``DefaultSampler(shuffle=False, round_up=False)``, so no image is predicted twice),
mmengine's evaluator gathers the predictions on rank 0 in dataset order, and
:meth:`PseudoLabelWriter.compute_metrics` (rank 0 only) writes them as a COCO file: a copy of
the unlabeled file whose annotations carry the predicted keypoints (so the file is read by
the same dataset class as the labeled file, e.g. ``Face300WDataset``).
"""
import copy
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.dist import get_world_size, is_main_process
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.logging import MMLogger
from mmengine.registry import HOOKS, METRICS
from mmengine.utils import ProgressBar
from mmpose.evaluation.metrics import NME
from mmpose.structures.bbox import bbox_cs2xyxy, bbox_xywh2xyxy

from mmssl.datasets.splits import load_coco
from mmssl.evaluation.face_metrics import per_image_nme
from mmssl.utils.atomic_files import atomic_json_dump

#: normalising keypoints of the pseudo-labels' NME against hidden ground truth: mmpose's NME
#: metric's (inter-ocular for 300W/WFLW/COFW/LaPa, ...); other datasets use the box size
NME_KEYPOINT_INDICES = NME.DEFAULT_KEYPOINT_INDICES
#: pixels per unit of a face annotation's ``scale`` (mmpose's face datasets)
FACE_PIXEL_STD = 200.


def annotation_box(ann: dict) -> Optional[np.ndarray]:
    """The xyxy box a top-down dataset crops for ``ann`` (300W-style center/scale first).

    The same conversions as mmpose's face datasets (``center``, ``scale * 200`` pixels) and
    COCO datasets (xywh ``bbox``), with mmpose's box helpers.
    """
    if 'center' in ann and 'scale' in ann:
        scale = np.full(2, ann['scale'] * FACE_PIXEL_STD, np.float32)
        return bbox_cs2xyxy(np.asarray(ann['center'], np.float32), scale).astype(np.float32)
    if 'bbox' in ann:
        xywh = np.asarray(ann['bbox'][:4], np.float32)[None]
        return bbox_xywh2xyxy(xywh)[0].astype(np.float32)
    return None


def match_annotations(source: dict, img_ids: Sequence[int], boxes: np.ndarray) -> List[int]:
    """The source annotation id of each predicted instance (same image, nearest box).

    Datasets number their samples differently (mmpose's face datasets keep the annotation
    id, ``UnlabeledTopDownDataset`` uses the sample index), so predictions are matched to the
    unlabeled file's annotations by image and box, never by a dataset-specific id.
    """
    by_image: Dict[int, List[tuple]] = {}
    for ann in source['annotations']:
        box = annotation_box(ann)
        if box is not None and not ann.get('iscrowd', 0):
            by_image.setdefault(ann['image_id'], []).append((ann['id'], box))
    ids = []
    for img_id, box in zip(img_ids, boxes):
        cands = by_image.get(int(img_id))
        if not cands:
            raise RuntimeError(f'a predicted instance of image {img_id} has no annotation '
                               'with a box in the unlabeled file')
        dist = [np.abs(c[1] - box).sum() for c in cands]
        ids.append(cands[int(np.argmin(dist))][0])
    return ids


@METRICS.register_module()
class PseudoLabelWriter(BaseMetric):
    """Write the predictions on the unlabeled set as a COCO pseudo-label file.

    Args:
        source_ann_file (str): The unlabeled COCO file (images and boxes). Each prediction
            replaces the keypoints of its annotation (same image, same box); all other fields
            (bbox, center/scale, box_size...) are kept, so the labeled set's dataset class
            reads the result.
        out_file (str): Where to write the pseudo-label file (atomically).
        score_thr (float, optional): Keep only annotations whose mean keypoint score is at
            least this (selection-based self-training). Defaults to None (keep all).
        gt_ann_file (str, optional): A file holding the hidden ground truth of the unlabeled
            annotations (same annotation ids, e.g. the unsplit training file), to measure
            pseudo-label quality. Analysis only; never used for training.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.

    Returned metrics (prefix ``pseudo``): ``num_labels``, ``kept_frac``, ``mean_score`` and,
    with ``gt_ann_file``, ``NME`` of all pseudo-labels (before selection) against the ground
    truth (inter-ocular for 300W/WFLW/COFW, box size otherwise).
    """

    default_prefix = 'pseudo'

    def __init__(self, source_ann_file: str, out_file: str,
                 score_thr: Optional[float] = None, gt_ann_file: Optional[str] = None,
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.source_ann_file = source_ann_file
        self.out_file = out_file
        self.score_thr = score_thr
        self.gt_ann_file = gt_ann_file

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            pred = sample['pred_instances']
            self.results.append(dict(
                img_id=int(sample['img_id']),
                box=np.asarray(sample['gt_instances']['bboxes'], np.float32).reshape(-1)[:4],
                keypoints=np.asarray(pred['keypoints'], dtype=np.float32)[0],
                scores=np.asarray(pred['keypoint_scores'], dtype=np.float32)[0]))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        source = load_coco(self.source_ann_file)
        ids = match_annotations(source, [r['img_id'] for r in results],
                                np.stack([r['box'] for r in results]))
        if len(set(ids)) != len(ids):
            raise RuntimeError(f'pseudo-labelling predicted {len(ids) - len(set(ids))} '
                               f'annotations of {self.source_ann_file} more than once')
        anns = {a['id']: a for a in source['annotations']}
        keypoints = np.stack([r['keypoints'] for r in results])  # (N, K, 2)
        scores = np.stack([r['scores'] for r in results])  # (N, K)
        mean_scores = scores.mean(axis=1)
        keep = (np.ones(len(ids), bool) if self.score_thr is None
                else mean_scores >= self.score_thr)
        out_anns = []
        for i in np.flatnonzero(keep):
            ann = copy.deepcopy(anns[ids[i]])
            kpts = np.concatenate([keypoints[i], np.full((len(keypoints[i]), 1), 2.0)], 1)
            ann.update(keypoints=[round(float(v), 3) for v in kpts.reshape(-1)],
                       num_keypoints=int(kpts.shape[0]),
                       keypoint_scores=[round(float(s), 4) for s in scores[i]],
                       score=float(mean_scores[i]))
            out_anns.append(ann)
        img_ids = {a['image_id'] for a in out_anns}
        out = dict(images=[im for im in source['images'] if im['id'] in img_ids],
                   annotations=out_anns, categories=source.get('categories', []),
                   info=dict(description='mmssl pseudo-labels', source=self.source_ann_file,
                             score_thr=self.score_thr))
        atomic_json_dump(out, self.out_file)
        metrics = dict(num_labels=float(len(out_anns)), kept_frac=float(keep.mean()),
                       mean_score=float(mean_scores.mean()))
        if self.gt_ann_file:
            metrics['NME'] = self._hidden_gt_nme(ids, keypoints)
        MMLogger.get_current_instance().info(
            f'wrote {len(out_anns)} pseudo-labels ({len(ids)} predicted) to {self.out_file}')
        return metrics

    def _hidden_gt_nme(self, ids: List[int], pred: np.ndarray) -> float:
        """Mean per-image NME of the predictions against ``gt_ann_file``."""
        gt_anns = {a['id']: a for a in load_coco(self.gt_ann_file)['annotations']}
        missing = [i for i in ids if i not in gt_anns]
        if missing:
            raise KeyError(f'{self.gt_ann_file} lacks annotation ids {missing[:3]} of the '
                           'unlabeled set')
        num_k = pred.shape[1]
        gt = np.array([gt_anns[i]['keypoints'] for i in ids], np.float32).reshape(-1, num_k, 3)
        name = (self.dataset_meta or {}).get('dataset_name', '')
        if name in NME_KEYPOINT_INDICES:
            a, b = NME_KEYPOINT_INDICES[name]
            norm = np.linalg.norm(gt[:, a, :2] - gt[:, b, :2], axis=1)
        else:
            boxes = [annotation_box(gt_anns[i]) for i in ids]
            norm = np.array([max(bx[2] - bx[0], bx[3] - bx[1]) for bx in boxes], np.float32)
        return float(np.nanmean(per_image_nme(pred, gt[..., :2], gt[..., 2] > 0, norm)))


@HOOKS.register_module()
class PseudoLabelProgressHook(Hook):
    """A console progress bar over the unlabeled images of a pseudo-labelling pass (rank 0).

    The bar counts images of all ranks (each rank predicts ~1/world_size of them).
    """

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._bar: Optional[ProgressBar] = None

    def before_test_epoch(self, runner) -> None:
        if is_main_process():
            self._bar = ProgressBar(len(runner.test_dataloader.dataset))

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self._bar is not None:
            n = len(outputs) if outputs is not None else 1
            self._bar.update(min(n * get_world_size(),
                                 self._bar.task_num - self._bar.completed))

    def after_test_epoch(self, runner, metrics=None) -> None:
        if self._bar is not None:
            self._bar.file.write('\n')
            self._bar = None
