"""Unlabeled instances from a folder of images: whole-image boxes or a detector's boxes.

The omni-supervised setting (STLD, seed 003, Sec. V-B.3) adds large unlabeled image
collections that come without any annotation file: CelebA faces for 300W, RSNA bone-age
radiographs for the hand X-rays. :func:`image_folder_to_coco` turns such a folder into the
COCO-format file of images and boxes that the self-training runner's unlabeled set, its
pseudo-label writer and the labeled set's dataset class read (written by
``tools/dataset_converters/image_folder_to_coco.py``); :class:`UnlabeledImageFolderDataset`
reads a folder directly for training that needs no such file.

Boxes:

- **whole image** (no detection file): ``[0, 0, w, h]``, e.g. radiographs, or face images
  already cropped to the face;
- **a detector's results file**: a JSON list of ``{"file_name": str, "bbox": [x, y, w, h],
  "score": float}`` (``"image"`` is accepted for ``"file_name"``), with ``file_name``
  relative to the image folder and the box in pixels; boxes scoring below ``score_thr`` or
  with a side shorter than ``min_box_size`` are dropped, then the ``max_per_image``
  highest-scoring boxes of each image are kept (1: one face per image, as CelebA has);
  images left without a box are not listed.

Each box may be enlarged about its centre (``box_scale``, e.g. to bring a detector's tight
face box to the extent of the landmark-based boxes of the labeled set). Every annotation
carries the box both as COCO ``bbox`` (xywh) and in mmpose's face convention (``center``
and ``scale`` = the longer side / 200, a square), so both the COCO-style datasets
(HandXrayDataset) and mmpose's face datasets (Face300WDataset, which reads only
``center``/``scale``) read the pseudo-label files made from it; both describe the same crop
once ``TopdownAffine`` makes it square. Keypoints are zeros (``num_keypoints = 0``).
"""
import math
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np

#: file extensions listed as images (case-insensitive)
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
#: pixels per unit of ``scale`` in mmpose's face annotations
PIXEL_STD = 200.


def list_images(img_dir: str) -> List[str]:
    """Image files under ``img_dir`` (recursively), as sorted relative paths."""
    if not osp.isdir(img_dir):
        raise FileNotFoundError(f'image folder not found: {img_dir}')
    found = []
    for root, _, files in os.walk(img_dir):
        for name in files:
            if osp.splitext(name)[1].lower() in IMAGE_EXTENSIONS:
                found.append(osp.relpath(osp.join(root, name), img_dir).replace(os.sep, '/'))
    if not found:
        raise ValueError(f'no images ({", ".join(IMAGE_EXTENSIONS)}) in {img_dir}')
    return sorted(found)


def load_detections(path: str, known: Sequence[str]) -> Dict[str, List[tuple]]:
    """A detector's results file (format: module docstring) as ``{file_name: [(xywh, score)]}``.

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        ValueError: naming ``path`` and the entry, for a malformed entry or a file name that
            is not an image of the folder.
    """
    import json
    if not osp.isfile(path):
        raise FileNotFoundError(f'detection results file not found: {path}')
    try:
        with open(path) as f:
            dets = json.load(f)
    except ValueError as err:
        raise ValueError(f'{path} is not valid JSON: {err}') from err
    if not isinstance(dets, list):
        raise ValueError(f'{path} must be a JSON list of {{"file_name", "bbox": [x, y, w, h], '
                         f'"score"}} entries, got a {type(dets).__name__}')
    known = set(known)
    out: Dict[str, List[tuple]] = {}
    for i, det in enumerate(dets):
        where = f'{path}: entry {i}'
        if not isinstance(det, dict):
            raise ValueError(f'{where} is not a dict')
        name = det.get('file_name', det.get('image'))
        if not isinstance(name, str):
            raise ValueError(f'{where} has no "file_name" (or "image") string')
        box = det.get('bbox')
        if (not isinstance(box, (list, tuple)) or len(box) < 4 or
                not all(isinstance(v, (int, float)) and math.isfinite(v) for v in box[:4])):
            raise ValueError(f'{where} ({name}): "bbox" must be [x, y, w, h] numbers, '
                             f'got {box!r}')
        score = det.get('score')
        if not isinstance(score, (int, float)) or not math.isfinite(score):
            raise ValueError(f'{where} ({name}): "score" must be a number, got {score!r}')
        name = name.replace('\\', '/')
        if name not in known:
            raise ValueError(f'{where}: "{name}" is not an image of the folder (file names '
                             'are relative to the image folder)')
        out.setdefault(name, []).append((np.asarray(box[:4], np.float64), float(score)))
    return out


def image_size(path: str) -> tuple:
    """``(width, height)`` from the image header (the pixels are not decoded)."""
    from PIL import Image
    with Image.open(path) as img:
        return img.size


def box_annotation(ann_id: int, img_id: int, xywh: np.ndarray, score: float,
                   num_keypoints: int, box_scale: float = 1.0) -> dict:
    """An unlabeled annotation of box ``xywh`` (enlarged ``box_scale`` times about its
    centre): COCO ``bbox`` plus mmpose's face ``center``/``scale``, zero keypoints."""
    x, y, w, h = (float(v) for v in xywh)
    cx, cy = x + w / 2, y + h / 2
    w, h = w * box_scale, h * box_scale
    return dict(id=ann_id, image_id=img_id, category_id=1, iscrowd=0,
                bbox=[cx - w / 2, cy - h / 2, w, h], area=w * h,
                center=[cx, cy], scale=max(w, h) / PIXEL_STD, score=score,
                keypoints=[0] * (3 * num_keypoints), num_keypoints=0)


def image_folder_to_coco(img_dir: str, num_keypoints: int, det_file: Optional[str] = None,
                         score_thr: float = 0.0, max_per_image: Optional[int] = 1,
                         min_box_size: float = 1.0, box_scale: float = 1.0,
                         category: str = 'object') -> dict:
    """The COCO dict of the images in ``img_dir`` and their boxes (see the module docstring).

    Args:
        img_dir (str): The image folder (searched recursively); ``file_name`` is relative.
        num_keypoints (int): Keypoints per instance of the labeled set (written as zeros, so
            the runner's keypoint-count check compares the two files).
        det_file (str, optional): Detector results; without it every image is one
            whole-image box.
        score_thr (float): Detector boxes scoring below this are dropped.
        max_per_image (int, optional): Keep this many highest-scoring boxes per image
            (None: all).
        min_box_size (float): Boxes with a side shorter than this (pixels, before
            ``box_scale``) are dropped.
        box_scale (float): Enlarge every box this many times about its centre.
        category (str): Name of the single category (id 1).

    Returns:
        dict: ``images`` (``file_name``, ``width``, ``height``), ``annotations``,
        ``categories``.

    Raises:
        ValueError: a bad argument, a malformed detection file, or no box left.
    """
    if num_keypoints < 1:
        raise ValueError(f'num_keypoints must be >= 1, got {num_keypoints}')
    if box_scale <= 0:
        raise ValueError(f'box_scale must be > 0, got {box_scale}')
    if max_per_image is not None and max_per_image < 1:
        raise ValueError(f'max_per_image must be >= 1 or None, got {max_per_image}')
    names = list_images(img_dir)
    dets = load_detections(det_file, names) if det_file else None
    images, anns = [], []
    for name in names:
        if dets is not None:
            boxes = [(b, s) for b, s in dets.get(name, [])
                     if s >= score_thr and min(b[2], b[3]) >= min_box_size]
            boxes = sorted(boxes, key=lambda d: -d[1])[:max_per_image]
            if not boxes:
                continue
        width, height = image_size(osp.join(img_dir, name))
        if dets is None:
            if min(width, height) < min_box_size:
                continue
            boxes = [(np.array([0., 0., width, height]), 1.0)]
        img_id = len(images) + 1
        images.append(dict(id=img_id, file_name=name, width=int(width), height=int(height)))
        for box, score in boxes:
            anns.append(box_annotation(len(anns) + 1, img_id, box, score, num_keypoints,
                                       box_scale))
    if not anns:
        source = (f'{det_file} (score >= {score_thr}, sides >= {min_box_size} px)'
                  if det_file else f'images with sides >= {min_box_size} px')
        raise ValueError(f'no unlabeled box in {img_dir}: none left from {source}')
    return dict(info=dict(description=f'unlabeled boxes of {img_dir}',
                          boxes=f'detections {osp.basename(det_file)} (score >= {score_thr})'
                          if det_file else 'whole image', box_scale=box_scale),
                images=images, annotations=anns,
                categories=[dict(id=1, name=category, supercategory=category)])


def nested_image_subsets(coco: dict, sizes: Sequence[int], seed: int = 1234) -> Dict[int, dict]:
    """Subsets of ``N`` images (with their annotations) for each N of ``sizes``, nested.

    The image list is shuffled once with ``seed`` and subset N is its first N images, so a
    smaller subset is part of every larger one (CelebA 20K in 70K in 200K).

    Raises:
        ValueError: when an N is not in ``1..len(images)``.
    """
    ids = [img['id'] for img in coco['images']]
    for n in sizes:
        if not 0 < n <= len(ids):
            raise ValueError(f'cannot take {n} of the {len(ids)} images with a box')
    order = np.random.RandomState(seed).permutation(len(ids))
    out = {}
    for n in sizes:
        chosen = {ids[i] for i in order[:n]}
        out[n] = dict(coco, images=[im for im in coco['images'] if im['id'] in chosen],
                      annotations=[a for a in coco['annotations'] if a['image_id'] in chosen])
    return out
