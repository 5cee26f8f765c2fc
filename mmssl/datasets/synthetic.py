"""Deterministic generators of the project's embedded default data.

Two small COCO-format datasets that a tiny model learns on a CPU in minutes, so every regime
can be run and compared without downloading anything:

* ``generate_body_keypoints``: articulated figures with the 17 COCO keypoints (same names,
  order, flip pairs and skeleton as COCO, so ``CocoDataset`` and ``CocoMetric`` work
  unchanged), varied pose, scale, rotation and colours, textured backgrounds, occluders and
  several figures per image. Figures face the camera, so a person's left side is on the image
  right, as in COCO's usual frontal poses.
* ``generate_face_landmarks``: faces with the 68 landmarks of 300W (same order and
  ``center``/``scale`` fields, so ``Face300WDataset`` and ``NME`` work unchanged).

Everything is drawn from ``numpy.random.default_rng(seed)``: the same seed writes the same
files byte for byte.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from .synthetic_shapes import (FACE_TEMPLATE, draw_occluders, random_colour,
                               textured_background)

COCO_KEYPOINTS = [
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder',
    'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip',
    'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle'
]
COCO_SKELETON = [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13],
                 [6, 7], [6, 8], [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4],
                 [3, 5], [4, 6], [5, 7]]


def _write_json_atomic(obj: dict, path: str) -> None:
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    tmp = f'{path}.tmp.{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(obj, f)
    os.replace(tmp, path)


def _write_image_atomic(img: np.ndarray, path: str) -> None:
    ok, buf = cv2.imencode(osp.splitext(path)[1], img)
    if not ok:
        raise IOError(f'could not encode {path}')
    tmp = f'{path}.tmp.{os.getpid()}'
    with open(tmp, 'wb') as f:
        f.write(buf.tobytes())
    os.replace(tmp, path)


def _rot(theta: float) -> np.ndarray:
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, -s], [s, c]])


# ----------------------------------------------------------------------------- bodies
def _sample_figure(rng: np.random.Generator, centre: np.ndarray,
                   height: float) -> Dict[str, np.ndarray]:
    """Joint positions (17x2, image pixels) and drawing radii of one frontal figure."""
    theta = np.deg2rad(np.clip(rng.normal(0, 20), -45, 45))
    rot = _rot(theta)
    up, right = rot @ np.array([0., -1.]), rot @ np.array([1., 0.])
    h = height * rng.uniform(0.9, 1.1, size=8)  # per-segment length jitter
    pelvis = centre + 0.05 * height * (-up)
    neck = pelvis + 0.30 * h[0] * up
    shw, hipw = 0.11 * h[1], 0.07 * h[2]
    head_r = 0.065 * height
    tilt = _rot(np.deg2rad(rng.uniform(-20, 20)))
    head_up, head_right = tilt @ up, tilt @ right
    head = neck + (0.03 * height + head_r) * head_up
    kpts = np.zeros((17, 2))
    kpts[0] = head - 0.15 * head_r * head_up
    kpts[1] = head + 0.38 * head_r * head_right + 0.25 * head_r * head_up
    kpts[2] = head - 0.38 * head_r * head_right + 0.25 * head_r * head_up
    kpts[3] = head + 0.98 * head_r * head_right + 0.1 * head_r * head_up
    kpts[4] = head - 0.98 * head_r * head_right + 0.1 * head_r * head_up
    kpts[5], kpts[6] = neck + shw * right, neck - shw * right
    kpts[11], kpts[12] = pelvis + hipw * right, pelvis - hipw * right

    def limb(root: np.ndarray, outward: np.ndarray, angle: float, length: float):
        a = np.deg2rad(angle)
        return root + length * (np.cos(a) * (-up) + np.sin(a) * outward)

    for side, outward in ((0, right), (1, -right)):
        a1 = rng.uniform(-40, 175)
        a2 = a1 + rng.uniform(-150, 20)
        kpts[7 + side] = limb(kpts[5 + side], outward, a1, 0.17 * h[3])
        kpts[9 + side] = limb(kpts[7 + side], outward, a2, 0.15 * h[4])
        l1 = rng.uniform(-20, 60)
        l2 = l1 + rng.uniform(-70, 15)
        kpts[13 + side] = limb(kpts[11 + side], outward, l1, 0.23 * h[5])
        kpts[15 + side] = limb(kpts[13 + side], outward, l2, 0.22 * h[6])
    return dict(kpts=kpts, head=head, head_r=np.array(head_r),
                limb_w=np.array(max(2.0, 0.045 * height)))


def _draw_figure(img: np.ndarray, fig: Dict[str, np.ndarray],
                 rng: np.random.Generator) -> np.ndarray:
    """Draw a figure in place; return its boolean mask."""
    k = fig['kpts']
    w = int(round(float(fig['limb_w'])))
    mask = np.zeros(img.shape[:2], np.uint8)
    body, left, right = random_colour(rng), random_colour(rng), random_colour(rng)
    skin = random_colour(rng, low=120)

    def line(a, b, colour, thickness):
        pa, pb = tuple(np.round(a).astype(int)), tuple(np.round(b).astype(int))
        cv2.line(img, pa, pb, colour, thickness, cv2.LINE_AA)
        cv2.line(mask, pa, pb, 1, thickness)

    torso = np.round(k[[5, 6, 12, 11]]).astype(np.int32)
    cv2.fillConvexPoly(img, torso, body, cv2.LINE_AA)
    cv2.fillConvexPoly(mask, torso, 1)
    # Legs, then arms (arms in front); left limbs and right limbs each have their colour.
    for a, b, col in ((11, 13, left), (13, 15, left), (12, 14, right), (14, 16, right),
                      (5, 7, left), (7, 9, left), (6, 8, right), (8, 10, right)):
        line(k[a], k[b], col, w)
    neck = (k[5] + k[6]) / 2
    line(neck, fig['head'], skin, max(2, w // 2))
    c, r = tuple(np.round(fig['head']).astype(int)), int(round(float(fig['head_r'])))
    cv2.circle(img, c, r, skin, -1, cv2.LINE_AA)
    cv2.circle(mask, c, r, 1, -1)
    dark = tuple(int(v) // 4 for v in skin)
    for j in (1, 2):
        cv2.circle(img, tuple(np.round(k[j]).astype(int)), max(1, r // 5), dark, -1)
    cv2.circle(img, tuple(np.round(k[0]).astype(int)), max(1, r // 6), (40, 40, 200), -1)
    for j in (3, 4):
        cv2.circle(img, tuple(np.round(k[j]).astype(int)), max(1, r // 4), skin, -1)
        cv2.circle(mask, tuple(np.round(k[j]).astype(int)), max(1, r // 4), 1, -1)
    return mask.astype(bool)


def generate_body_keypoints(out_dir: str, num_images: int, seed: int = 0,
                            image_size: Tuple[int, int] = (160, 160),
                            max_figures: int = 3, split: str = 'train') -> str:
    """Write ``images/<split>/*.jpg`` and ``annotations/person_keypoints_<split>.json``.

    Args:
        out_dir: dataset root.
        num_images: number of images; each has 1 to ``max_figures`` figures.
        seed: random seed; the output is a pure function of all arguments.
        image_size: (width, height) of the images.
        max_figures: most figures per image.
        split: name used in the file names.

    Returns:
        str: path of the annotation file.
    """
    rng = np.random.default_rng(seed)
    width, height = image_size
    img_dir = osp.join(out_dir, 'images', split)
    os.makedirs(img_dir, exist_ok=True)
    images, annotations = [], []
    for img_id in range(1, num_images + 1):
        img = textured_background(rng, height, width)
        n_fig = int(rng.integers(1, max_figures + 1))
        figures, masks = [], []
        for _ in range(n_fig):
            fh = rng.uniform(0.35, 0.85) * height
            centre = np.array([rng.uniform(0.2, 0.8) * width, rng.uniform(0.3, 0.7) * height])
            fig = _sample_figure(rng, centre, fh)
            masks.append(_draw_figure(img, fig, rng))
            figures.append(fig)
        occ_mask = draw_occluders(img, rng, max_count=2, max_frac=0.3, p=0.5)
        file_name = f'{img_id:06d}.jpg'
        _write_image_atomic(img, osp.join(img_dir, file_name))
        images.append(dict(id=img_id, file_name=file_name, width=width, height=height))
        for i, fig in enumerate(figures):
            visible = masks[i].copy()
            for later in masks[i + 1:]:
                visible &= ~later
            visible &= ~occ_mask
            if visible.sum() < 40:
                continue  # hidden figure: not annotated (like an unannotated COCO person)
            ys, xs = np.nonzero(masks[i])
            x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
            kp = np.zeros((17, 3))
            for j, (x, y) in enumerate(fig['kpts']):
                xi, yi = int(round(x)), int(round(y))
                if not (0 <= xi < width and 0 <= yi < height):
                    continue
                kp[j] = (x, y, 2 if visible[yi, xi] or _near(visible, xi, yi) else 1)
            annotations.append(
                dict(id=len(annotations) + 1, image_id=img_id, category_id=1, iscrowd=0,
                     bbox=[float(x0), float(y0), float(x1 - x0), float(y1 - y0)],
                     area=float(masks[i].sum()), num_keypoints=int((kp[:, 2] > 0).sum()),
                     keypoints=[round(float(v), 2) for v in kp.reshape(-1)]))
    categories = [dict(id=1, name='person', supercategory='person',
                       keypoints=COCO_KEYPOINTS, skeleton=COCO_SKELETON)]
    ann_path = osp.join(out_dir, 'annotations', f'person_keypoints_{split}.json')
    _write_json_atomic(dict(images=images, annotations=annotations, categories=categories),
                       ann_path)
    return ann_path


def _near(mask: np.ndarray, x: int, y: int, r: int = 1) -> bool:
    return bool(mask[max(0, y - r):y + r + 1, max(0, x - r):x + r + 1].any())


# ----------------------------------------------------------------------------- faces
def _sample_face(rng: np.random.Generator, centre: np.ndarray, size: float) -> np.ndarray:
    """68 landmarks (image pixels) of one face with random shape, expression and pose."""
    pts = FACE_TEMPLATE.copy()
    pts[:, 0] *= rng.uniform(0.85, 1.15)  # face width
    pts[17:27, 1] -= rng.uniform(-0.05, 0.08)  # brow raise
    eyes = slice(36, 48)
    eye_c = np.where(np.arange(36, 48)[:, None] < 42, [[-0.33, -0.18]], [[0.33, -0.18]])
    pts[eyes, 1] = eye_c[:, 1] + (pts[eyes, 1] - eye_c[:, 1]) * rng.uniform(0.3, 1.4)
    open_ = rng.uniform(0, 0.15)
    pts[[55, 56, 57, 58, 59, 65, 66, 67], 1] += open_
    yaw = rng.uniform(-0.35, 0.35)  # features slide toward one side, like a turned head
    inner = np.arange(17, 68)
    pts[inner, 0] += yaw * 0.3 * (1 - pts[inner, 0]**2)
    pts[:17, 0] *= 1 - 0.25 * yaw * np.sign(pts[:17, 0])
    theta = np.deg2rad(np.clip(rng.normal(0, 12), -30, 30))
    return centre + (pts * size / 2) @ _rot(theta).T


def _draw_face(img: np.ndarray, p: np.ndarray, rng: np.random.Generator) -> None:
    skin = random_colour(rng, low=90)
    dark = tuple(int(v) // 3 for v in skin)
    hair = random_colour(rng, high=120)
    ip = np.round(p).astype(np.int32)
    centre = p[:17].mean(0) * 0.5 + p[27] * 0.5
    top = p[17:27].mean(0) * 2 - p[8]  # head top: brow centre mirrored from chin
    outline = np.concatenate([ip[:17], np.round([p[16] * 0.5 + top * 0.5, top,
                                                 p[0] * 0.5 + top * 0.5]).astype(np.int32)])
    hull = cv2.convexHull(outline)
    cv2.fillConvexPoly(img, hull, hair, cv2.LINE_AA)
    cv2.fillConvexPoly(img, cv2.convexHull(np.concatenate([ip[:17], ip[17:27] - np.round(
        (top - centre) * 0.15).astype(np.int32)])), skin, cv2.LINE_AA)
    cv2.polylines(img, [ip[:17]], False, dark, 1, cv2.LINE_AA)
    for s in (slice(17, 22), slice(22, 27)):
        cv2.polylines(img, [ip[s]], False, hair, 2, cv2.LINE_AA)
    cv2.polylines(img, [ip[27:31]], False, dark, 1, cv2.LINE_AA)
    cv2.polylines(img, [ip[31:36]], False, dark, 1, cv2.LINE_AA)
    iris = random_colour(rng, high=150)
    for s in (slice(36, 42), slice(42, 48)):
        cv2.fillPoly(img, [ip[s]], (235, 235, 235), cv2.LINE_AA)
        c = tuple(np.round(p[s].mean(0)).astype(int))
        r = max(1, int(round(np.ptp(p[s][:, 1]) / 2.5)))
        cv2.circle(img, c, r, iris, -1, cv2.LINE_AA)
    lips = (int(rng.integers(120, 220)), int(rng.integers(40, 100)), int(rng.integers(150, 230)))
    cv2.fillPoly(img, [ip[48:60]], lips, cv2.LINE_AA)
    cv2.fillPoly(img, [ip[60:68]], (30, 20, 40), cv2.LINE_AA)


def generate_face_landmarks(out_dir: str, num_images: int, seed: int = 0,
                            image_size: int = 128, split: str = 'train') -> str:
    """Write ``images/<split>/*.png`` and ``annotations/face_landmarks_<split>.json``.

    One face per image with the 68 landmarks of 300W; ``center``/``scale`` follow 300W
    (``scale`` = box size / 200). Returns the annotation path.
    """
    rng = np.random.default_rng(seed + 10_000)
    img_dir = osp.join(out_dir, 'images', split)
    os.makedirs(img_dir, exist_ok=True)
    images, annotations = [], []
    for img_id in range(1, num_images + 1):
        img = textured_background(rng, image_size, image_size)
        size = rng.uniform(0.45, 0.75) * image_size
        centre = image_size / 2 + rng.uniform(-0.12, 0.12, size=2) * image_size
        pts = _sample_face(rng, centre, size)
        _draw_face(img, pts, rng)
        draw_occluders(img, rng, max_count=1, max_frac=0.2, p=0.3)
        file_name = f'{img_id:06d}.png'
        _write_image_atomic(img, osp.join(img_dir, file_name))
        images.append(dict(id=img_id, file_name=file_name, width=image_size,
                           height=image_size))
        x0, y0 = pts.min(0)
        x1, y1 = pts.max(0)
        kp = np.concatenate([pts, np.full((68, 1), 2.0)], 1)
        annotations.append(
            dict(id=img_id, image_id=img_id, category_id=1, iscrowd=0, num_keypoints=68,
                 bbox=[float(x0), float(y0), float(x1 - x0), float(y1 - y0)],
                 area=float((x1 - x0) * (y1 - y0)),
                 center=[float((x0 + x1) / 2), float((y0 + y1) / 2)],
                 scale=float(max(x1 - x0, y1 - y0) / 200.0),
                 keypoints=[round(float(v), 2) for v in kp.reshape(-1)]))
    categories = [dict(id=1, name='face', supercategory='person', keypoints=[], skeleton=[])]
    ann_path = osp.join(out_dir, 'annotations', f'face_landmarks_{split}.json')
    _write_json_atomic(dict(images=images, annotations=annotations, categories=categories),
                       ann_path)
    return ann_path


def generate_default_data(root: str, seed: int = 0, num_body: Optional[Dict[str, int]] = None,
                          num_face: Optional[Dict[str, int]] = None) -> Dict[str, List[str]]:
    """Write the embedded default data under ``root``: ``body/`` and ``faces/``.

    Returns the written annotation files per dataset.
    """
    num_body = num_body or dict(train=1000, val=150)
    num_face = num_face or dict(train=600, test=150)
    out: Dict[str, List[str]] = dict(body=[], faces=[])
    for i, (split, n) in enumerate(sorted(num_body.items())):
        out['body'].append(generate_body_keypoints(osp.join(root, 'body'), n, seed + i,
                                                   split=split))
    for i, (split, n) in enumerate(sorted(num_face.items())):
        out['faces'].append(generate_face_landmarks(osp.join(root, 'faces'), n, seed + i,
                                                    split=split))
    return out
