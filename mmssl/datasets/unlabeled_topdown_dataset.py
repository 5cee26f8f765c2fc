"""A top-down dataset of person (or face) boxes without keypoints.

mmpose's COCO-style datasets cannot serve unlabeled data: they drop instances with
``num_keypoints == 0`` and accept a detector's ``bbox_file`` only in test mode. This dataset
reads images plus boxes, either the GT boxes of a COCO-format file (keypoints ignored) or a
person detector's results file (``[{image_id, bbox, score, category_id}, ...]``, the format
of COCO "WILD" boxes) filtered by a score threshold, in train and test mode alike. Each
sample looks like an mmpose top-down sample with zero keypoints and zero visibility, so
mmpose's pipelines (``GetBBoxCenterScale``, ``RandomFlip``, ``TopdownAffine``, ...) and
``predict`` work on it unchanged, and nothing in it can act as a supervision signal.
"""
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np
from mmengine.fileio import exists, get_local_path, load
from mmpose.datasets.datasets.base import BaseCocoStyleDataset
from mmpose.registry import DATASETS
from mmpose.structures.bbox import bbox_cs2xyxy, bbox_xywh2xyxy
from xtcocotools.coco import COCO


def num_labeled_keypoints(ann: dict) -> int:
    """Keypoints with a visibility flag > 0 (COCO's ``num_keypoints``)."""
    if 'num_keypoints' in ann:
        return int(ann['num_keypoints'])
    return int(np.count_nonzero(np.asarray(ann.get('keypoints', []))[2::3]))


@DATASETS.register_module()
class UnlabeledTopDownDataset(BaseCocoStyleDataset):
    """Images + boxes, no keypoints, for the unlabeled part of semi-supervised training.

    Args:
        ann_file: COCO-format file listing the images (and, without ``bbox_file``, the boxes).
        bbox_file: optional detector results; boxes then come from it, not from ``ann_file``.
        bbox_score_thr: detector boxes scoring below this are dropped.
        category_ids: categories kept (COCO person = 1; 300W/WFLW faces also use 1).
        min_box_size: boxes with a side shorter than this (pixels) are dropped.
        min_num_keypoints: with GT boxes, keep only persons with at least this many labeled
            keypoints in ``ann_file`` (their keypoints are still not used). PoseDual's
            unlabeled COCO set ("COCO 150K") is train2017's persons with >= 1 keypoint;
            ``0`` keeps every box (about 257K in train2017).
        use_center_scale: use an annotation's ``center``/``scale`` (300W/WFLW/AFLW
            convention, ``scale * 200`` pixels) when present, so unlabeled face crops match
            the labeled ones exactly.
        metainfo: keypoint metainfo (``dict(from_file=...)``); COCO body by default. The
            keypoint count of the samples comes from it.
        **kwargs: ``data_root``, ``data_prefix``, ``pipeline``, ``test_mode``, ... as in mmpose.
    """

    METAINFO: dict = dict(from_file='configs/_base_/datasets/coco.py')

    def __init__(self, ann_file: str = '', bbox_file: Optional[str] = None,
                 bbox_score_thr: float = 0.0, category_ids: Sequence[int] = (1, ),
                 min_box_size: float = 1.0, use_center_scale: bool = True,
                 min_num_keypoints: int = 0, **kwargs) -> None:
        if min_num_keypoints and bbox_file:
            raise ValueError(f'min_num_keypoints={min_num_keypoints} filters GT boxes by their '
                             f'annotated keypoints; detector boxes ({bbox_file}) have none')
        self.min_num_keypoints = int(min_num_keypoints)
        self.unlabeled_bbox_file = bbox_file
        self.bbox_score_thr = bbox_score_thr
        self.category_ids = set(category_ids)
        self.min_box_size = min_box_size
        self.use_center_scale = use_center_scale
        kwargs.setdefault('data_mode', 'topdown')
        if kwargs['data_mode'] != 'topdown':
            raise ValueError('UnlabeledTopDownDataset only supports data_mode="topdown"')
        super().__init__(ann_file=ann_file, bbox_file=None, **kwargs)

    def _load_coco(self) -> COCO:
        """The images and boxes, as a COCO API object (a subclass may build it otherwise)."""
        if not exists(self.ann_file):
            raise FileNotFoundError(f'unlabeled annotation file not found: {self.ann_file}')
        with get_local_path(self.ann_file) as local_path:
            return COCO(local_path)

    def load_data_list(self) -> List[dict]:
        coco = self._load_coco()
        if 'categories' in coco.dataset:
            self._metainfo['CLASSES'] = coco.loadCats(coco.getCatIds())
        if self.unlabeled_bbox_file:
            if self.data_root and not osp.isabs(self.unlabeled_bbox_file) and not exists(
                    self.unlabeled_bbox_file):
                self.unlabeled_bbox_file = osp.join(self.data_root, self.unlabeled_bbox_file)
            boxes = self._boxes_from_detections(coco)
            source = f'{self.unlabeled_bbox_file} (score >= {self.bbox_score_thr})'
        else:
            boxes = self._boxes_from_annotations(coco)
            source = self.ann_file
        if not boxes:
            kpt = (f' and >= {self.min_num_keypoints} labeled keypoints (a split tool\'s '
                   'unlabeled file has none: point ann_file at the original annotations)'
                   if self.min_num_keypoints else '')
            raise ValueError(f'the unlabeled set is empty: no box of categories '
                             f'{sorted(self.category_ids)} with sides >= {self.min_box_size} '
                             f'px{kpt} in {source}')
        num_keypoints = self.metainfo['num_keypoints']
        for i, info in enumerate(boxes):
            info.update(
                id=i,
                keypoints=np.zeros((1, num_keypoints, 2), np.float32),
                keypoints_visible=np.zeros((1, num_keypoints), np.float32),
                num_keypoints=0,
                iscrowd=0)
        return boxes

    def _image_info(self, coco: COCO, img_id: int) -> dict:
        img = coco.loadImgs(img_id)[0]
        return dict(img_id=img_id, img_path=osp.join(self.data_prefix['img'], img['file_name']),
                    img_shape=(img['height'], img['width']))

    def _keep(self, bbox_xyxy: np.ndarray) -> bool:
        w, h = bbox_xyxy[0, 2:] - bbox_xyxy[0, :2]
        return bool(min(w, h) >= self.min_box_size)

    def _boxes_from_annotations(self, coco: COCO) -> List[dict]:
        out = []
        for img_id in coco.getImgIds():
            if img_id % self.sample_interval != 0:
                continue
            for ann in coco.loadAnns(coco.getAnnIds(imgIds=img_id)):
                if ann.get('iscrowd', 0) or ann.get('category_id', 1) not in self.category_ids:
                    continue
                if self.min_num_keypoints and num_labeled_keypoints(ann) < \
                        self.min_num_keypoints:
                    continue
                info = self._image_info(coco, img_id)
                if self.use_center_scale and 'center' in ann and 'scale' in ann:
                    center = np.array([ann['center']], np.float32)
                    scale = np.array([[ann['scale'], ann['scale']]], np.float32) * 200.
                    info.update(bbox_center=center, bbox_scale=scale)
                    bbox = bbox_cs2xyxy(center, scale)
                elif 'bbox' in ann:
                    bbox = bbox_xywh2xyxy(np.array(ann['bbox'], np.float32).reshape(1, 4))
                    h, w = info['img_shape']
                    bbox = np.clip(bbox, 0, [[w - 1, h - 1, w - 1, h - 1]]).astype(np.float32)
                else:
                    continue
                if self._keep(bbox):
                    info.update(bbox=bbox, bbox_score=np.ones(1, np.float32),
                                category_id=ann.get('category_id', 1))
                    out.append(info)
        return out

    def _boxes_from_detections(self, coco: COCO) -> List[dict]:
        if not exists(self.unlabeled_bbox_file):
            raise FileNotFoundError(f'detection results file not found: '
                                    f'{self.unlabeled_bbox_file}')
        dets = load(self.unlabeled_bbox_file)
        if not isinstance(dets, list) or not all(isinstance(d, dict) for d in dets):
            raise ValueError(f'{self.unlabeled_bbox_file} must be a list of '
                             '{image_id, bbox, score, category_id} dicts')
        known = set(coco.getImgIds())
        out = []
        for det in dets:
            if det.get('category_id', 1) not in self.category_ids:
                continue
            if det['score'] < self.bbox_score_thr or det['image_id'] % self.sample_interval:
                continue
            if det['image_id'] not in known:
                raise ValueError(f'{self.unlabeled_bbox_file}: image_id {det["image_id"]} is '
                                 f'not in {self.ann_file}')
            bbox = bbox_xywh2xyxy(np.array(det['bbox'][:4], np.float32).reshape(1, 4))
            if self._keep(bbox):
                info = self._image_info(coco, det['image_id'])
                info.update(bbox=bbox, bbox_score=np.array([det['score']], np.float32),
                            category_id=det.get('category_id', 1))
                out.append(info)
        return out
