"""Tiny synthetic hand radiographs in the layout of Payer et al.'s hand X-ray data.

Writes ``<root>/images/<id>.png`` (dark grey images with a bright disc at each of the 37
landmarks, jittered per image) and ``<root>/landmarks.csv`` in Payer et al.'s CSV format (one
row per image: the id, then x, y of the 37 landmarks in pixels), so tests and the config
smoke runs exercise the real route: CSV -> ``hand_csv_to_coco`` -> ``HandXrayDataset`` ->
``LandmarkMRE``. Also writes images without landmarks for an unlabeled folder. Deterministic
in ``seed``.
"""
import os
import os.path as osp
from typing import List, Tuple

import cv2
import numpy as np

from .hand_xray_dataset import HAND_XRAY_NUM_KEYPOINTS, WRIST_WIDTH_KEYPOINTS


def _template(width: int, height: int) -> np.ndarray:
    """A rough left-hand layout (37 points): wrist at the bottom, fingers up, thumb right."""
    pts = np.zeros((HAND_XRAY_NUM_KEYPOINTS, 2))
    pts[:13, 0] = np.linspace(0.30, 0.70, 13)
    pts[:13, 1] = 0.88 + 0.04 * np.sin(np.arange(13))
    a, b = WRIST_WIDTH_KEYPOINTS
    pts[a], pts[b] = (0.25, 0.85), (0.75, 0.83)  # the wrist-width pair, well apart
    pts[13:18, 0] = np.linspace(0.30, 0.70, 5)
    pts[13:18, 1] = 0.70
    rays = [(0.80, 3), (0.62, 4), (0.50, 4), (0.38, 4), (0.26, 4)]  # thumb, index..little
    i = 18
    for x, n in rays:
        for j in range(n):
            pts[i] = (x + 0.02 * j, 0.58 - 0.12 * j)
            i += 1
    return pts * [width, height]


def draw_hand(landmarks: np.ndarray, width: int, height: int,
              rng: np.random.Generator) -> np.ndarray:
    """A grey 8-bit image with a bright disc at each landmark, plus noise."""
    img = rng.integers(10, 40, (height, width), dtype=np.uint8)
    for x, y in landmarks:
        cv2.circle(img, (int(round(x)), int(round(y))), 2, int(rng.integers(180, 255)), -1)
    return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)


def write_synthetic_hand_xray(root: str, num_images: int, seed: int = 0,
                              size: Tuple[int, int] = (48, 64),
                              prefix: str = 'h') -> str:
    """Images + a Payer-format landmark CSV under ``root``; returns the CSV path.

    Args:
        root (str): Output folder (``images/`` and ``landmarks.csv`` inside).
        num_images (int): Number of images (ids ``<prefix>0``, ``<prefix>1``, ...).
        seed (int): Random seed.
        size (tuple[int, int]): ``(width, height)`` of every image.
        prefix (str): Prefix of the image ids.
    """
    rng = np.random.default_rng(seed)
    width, height = size
    os.makedirs(osp.join(root, 'images'), exist_ok=True)
    rows: List[str] = []
    for i in range(num_images):
        pts = _template(width, height) + rng.normal(0, 0.5, (HAND_XRAY_NUM_KEYPOINTS, 2))
        pts = np.clip(pts, 0, [width - 1, height - 1])
        img_id = f'{prefix}{i}'
        cv2.imwrite(osp.join(root, 'images', f'{img_id}.png'), draw_hand(pts, width, height,
                                                                          rng))
        rows.append(','.join([img_id] + [f'{v:.2f}' for v in pts.reshape(-1)]))
    path = osp.join(root, 'landmarks.csv')
    with open(path, 'w') as f:
        f.write('\n'.join(rows) + '\n')
    return path


def write_unlabeled_radiographs(folder: str, num_images: int, seed: int = 1,
                                size: Tuple[int, int] = (48, 64)) -> List[str]:
    """Landmark-free synthetic radiographs (an RSNA-like unlabeled folder); file names."""
    rng = np.random.default_rng(seed)
    width, height = size
    os.makedirs(folder, exist_ok=True)
    names = []
    for i in range(num_images):
        pts = _template(width, height) + rng.normal(0, 0.5, (HAND_XRAY_NUM_KEYPOINTS, 2))
        name = f'u{i}.png'
        cv2.imwrite(osp.join(folder, name), draw_hand(pts, width, height, rng))
        names.append(name)
    return names
