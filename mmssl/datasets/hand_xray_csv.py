"""Payer et al.'s hand X-ray landmark CSV -> the COCO-format file of :class:`HandXrayDataset`.

The CSV (``setup/all.csv`` of Payer et al.'s MedicalDataAugmentationTool-HeatmapRegression
release, 37 landmarks of the Digital Hand Atlas images) is read as:

- one row per image, comma-separated, no header, blank lines ignored;
- field 1: the image id (the file stem of the image, e.g. ``3142`` for ``3142.jpg``);
- fields 2..75: ``x0, y0, x1, y1, ..., x36, y36``: the 37 landmarks in pixels of the
  original image (origin at the top-left corner, x to the right, y down), in the metainfo's
  order (``hand_xray_metainfo.py``).

A row with another field count, a value that is not a finite number, a repeated id or a
landmark outside its image is refused with the file and line named.

Each image becomes one instance whose box is the **whole image** (``[0, 0, w, h]``), not the
landmarks' box: the paper resizes whole radiographs to 512 x 512, and the unlabeled RSNA
images of the omni setting have no landmarks to draw a box from, so only the whole image
frames labeled, unlabeled and test crops the same way.
"""
import math
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np

from .hand_xray_dataset import HAND_XRAY_METAINFO_FILE, HAND_XRAY_NUM_KEYPOINTS
from .image_folder import image_size

#: image file extensions tried, in this order, for an id's image
HAND_IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')


def read_landmark_csv(path: str, num_keypoints: int = HAND_XRAY_NUM_KEYPOINTS
                      ) -> Tuple[List[str], np.ndarray, List[int]]:
    """Read the landmark CSV (format: see the module docstring).

    Args:
        path (str): The CSV file.
        num_keypoints (int): Landmarks per row. Defaults to 37.

    Returns:
        tuple: ``(ids, landmarks, lines)``: image ids in file order, ``(N, K, 2)`` float
        coordinates, and the 1-based line number of each row (for later error messages).

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        ValueError: naming ``path`` and the line, for a malformed row or a repeated id.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'landmark CSV not found: {path}')
    ids, rows, lines, seen = [], [], [], {}
    expected = 1 + 2 * num_keypoints
    with open(path, newline='') as f:
        for line_no, line in enumerate(f, start=1):
            line = line.strip()
            if not line:
                continue
            fields = [v.strip() for v in line.split(',')]
            if len(fields) != expected:
                raise ValueError(
                    f'{path}, line {line_no}: {len(fields)} fields, expected {expected} (an '
                    f'image id, then x, y of {num_keypoints} landmarks)')
            img_id = fields[0]
            if not img_id:
                raise ValueError(f'{path}, line {line_no}: empty image id')
            if img_id in seen:
                raise ValueError(f'{path}, line {line_no}: image id {img_id!r} repeats line '
                                 f'{seen[img_id]}')
            try:
                values = [float(v) for v in fields[1:]]
            except ValueError:
                bad = next(v for v in fields[1:] if not _is_number(v))
                raise ValueError(f'{path}, line {line_no}: {bad!r} is not a number (a header '
                                 'row? the CSV has none)') from None
            if not all(math.isfinite(v) for v in values):
                raise ValueError(f'{path}, line {line_no}: non-finite coordinate')
            seen[img_id] = line_no
            ids.append(img_id)
            rows.append(values)
            lines.append(line_no)
    if not ids:
        raise ValueError(f'{path}: no landmark rows')
    return ids, np.asarray(rows, np.float64).reshape(len(ids), num_keypoints, 2), lines


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_id_list(path: str) -> List[str]:
    """Image ids, one per line (blank lines ignored), e.g. the 609 training images."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'id list not found: {path}')
    with open(path) as f:
        ids = [line.strip() for line in f if line.strip()]
    if not ids:
        raise ValueError(f'{path}: no image ids')
    return ids


def find_image(img_dir: str, img_id: str,
               extensions: Sequence[str] = HAND_IMAGE_EXTENSIONS) -> Optional[str]:
    """The file name (relative to ``img_dir``) of ``img_id``'s image, or None."""
    for ext in extensions:
        if osp.isfile(osp.join(img_dir, img_id + ext)):
            return img_id + ext
    return None


def hand_csv_to_coco(csv_file: str, img_dir: str, ids: Optional[Sequence[str]] = None,
                     ids_file: str = '') -> dict:
    """The COCO dict of the CSV's images (all, or ``ids`` in that order).

    Args:
        csv_file (str): Payer et al.'s landmark CSV.
        img_dir (str): The folder of the images, named ``<id>.<ext>``
            (:data:`HAND_IMAGE_EXTENSIONS`); ``file_name`` is relative to it.
        ids (Sequence[str], optional): The image ids to convert (e.g. a train or test list).
        ids_file (str): Where ``ids`` came from, for error messages.

    Returns:
        dict: COCO keypoints dict: images (``file_name``, ``width``, ``height``, ``case_id``
        = the CSV id), one annotation per image (whole-image ``bbox``, 37 keypoints with
        visibility 2), one ``hand`` category with the keypoint names and skeleton.

    Raises:
        FileNotFoundError: an id without an image in ``img_dir``.
        ValueError: an id of ``ids`` not in the CSV, or a landmark outside its image.
    """
    from mmengine.config import Config
    csv_ids, landmarks, lines = read_landmark_csv(csv_file)
    row_of = {img_id: i for i, img_id in enumerate(csv_ids)}
    if ids is None:
        ids = csv_ids
    missing = [i for i in ids if i not in row_of]
    if missing:
        src = f' (from {ids_file})' if ids_file else ''
        raise ValueError(f'{len(missing)} image ids{src} are not in {csv_file}: '
                         f'{missing[:5]}')
    if len(set(ids)) != len(ids):
        raise ValueError(f'image ids repeat{" in " + ids_file if ids_file else ""}')
    info = Config.fromfile(HAND_XRAY_METAINFO_FILE).dataset_info
    names = [info.keypoint_info[i]['name'] for i in range(len(info.keypoint_info))]
    skeleton = [[names.index(a) + 1, names.index(b) + 1]
                for a, b in (s['link'] for s in info.skeleton_info.values())]
    images, anns = [], []
    for new_id, img_id in enumerate(ids, start=1):
        row = row_of[img_id]
        file_name = find_image(img_dir, img_id)
        if file_name is None:
            raise FileNotFoundError(f'no image for id {img_id!r} ({csv_file}, line '
                                    f'{lines[row]}) in {img_dir} (tried '
                                    f'{", ".join(HAND_IMAGE_EXTENSIONS)})')
        width, height = image_size(osp.join(img_dir, file_name))
        pts = landmarks[row]
        outside = np.flatnonzero((pts[:, 0] < 0) | (pts[:, 0] > width) | (pts[:, 1] < 0)
                                 | (pts[:, 1] > height))
        if outside.size:
            raise ValueError(
                f'{csv_file}, line {lines[row]}: landmarks {outside.tolist()[:5]} of image '
                f'{img_id!r} lie outside its {width} x {height} pixels ({file_name}); the '
                'coordinates are those of the original radiographs, so the images must not '
                'be resized')
        keypoints = np.concatenate([pts, np.full((len(pts), 1), 2.0)], axis=1)
        images.append(dict(id=new_id, file_name=file_name, width=int(width),
                           height=int(height), case_id=img_id))
        anns.append(dict(id=new_id, image_id=new_id, category_id=1, iscrowd=0,
                         bbox=[0.0, 0.0, float(width), float(height)],
                         area=float(width * height),
                         keypoints=[round(float(v), 3) for v in keypoints.reshape(-1)],
                         num_keypoints=int(len(pts))))
    categories = [dict(id=1, name='hand', supercategory='hand', keypoints=names,
                       skeleton=skeleton)]
    return dict(info=dict(description='hand X-ray landmarks (Payer et al.), from '
                          f'{osp.basename(csv_file)}'),
                images=images, annotations=anns, categories=categories)
