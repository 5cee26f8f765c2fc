"""Drawing primitives shared by the synthetic generators: backgrounds, occluders, templates."""
from typing import Tuple

import cv2
import numpy as np


def random_colour(rng: np.random.Generator, low: int = 0, high: int = 256) -> Tuple[int, ...]:
    return tuple(int(v) for v in rng.integers(low, high, size=3))


def textured_background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A cluttered BGR uint8 background: gratings, smooth noise and random strokes."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.zeros((height, width, 3), np.float32)
    base = rng.uniform(40, 215, size=3)
    for _ in range(int(rng.integers(2, 4))):
        freq = rng.uniform(0.02, 0.25)
        ang = rng.uniform(0, np.pi)
        phase = rng.uniform(0, 2 * np.pi)
        wave = np.sin(freq * (np.cos(ang) * xx + np.sin(ang) * yy) + phase)
        img += wave[..., None] * rng.uniform(-40, 40, size=3)
    noise = rng.normal(0, 1, size=(height // 8 + 1, width // 8 + 1, 3)).astype(np.float32)
    img += cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC) * 25
    img = np.clip(img + base, 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(3, 9))):
        p0 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        p1 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        colour = random_colour(rng)
        if rng.random() < 0.5:
            cv2.line(img, p0, p1, colour, int(rng.integers(1, 4)), cv2.LINE_AA)
        else:
            r = int(rng.integers(3, max(4, min(height, width) // 8)))
            cv2.circle(img, p0, r, colour, int(rng.choice([-1, 1, 2])), cv2.LINE_AA)
    return img


def draw_occluders(img: np.ndarray, rng: np.random.Generator, max_count: int,
                   max_frac: float, p: float) -> np.ndarray:
    """With probability ``p`` draw 1..max_count textured boxes/ellipses; return their mask."""
    h, w = img.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    if rng.random() >= p:
        return mask.astype(bool)
    for _ in range(int(rng.integers(1, max_count + 1))):
        bw = int(rng.uniform(0.08, max_frac) * w)
        bh = int(rng.uniform(0.08, max_frac) * h)
        x0, y0 = int(rng.integers(0, w - bw)), int(rng.integers(0, h - bh))
        colour = random_colour(rng)
        if rng.random() < 0.5:
            cv2.rectangle(img, (x0, y0), (x0 + bw, y0 + bh), colour, -1)
            cv2.rectangle(mask, (x0, y0), (x0 + bw, y0 + bh), 1, -1)
        else:
            axes = (bw // 2, bh // 2)
            centre = (x0 + bw // 2, y0 + bh // 2)
            cv2.ellipse(img, centre, axes, float(rng.uniform(0, 180)), 0, 360, colour, -1)
            cv2.ellipse(mask, centre, axes, 0, 0, 360, 1, -1)
    return mask.astype(bool)


def _face_template() -> np.ndarray:
    """The 68 300W landmarks of a frontal face in a [-1, 1] box (x right, y down)."""
    p = np.zeros((68, 2))
    a = np.deg2rad(np.linspace(170, 10, 17))  # jaw: image-left ear, chin (8), image-right
    p[:17] = np.stack([0.75 * np.cos(a), 0.95 * np.sin(a)], 1)
    bx = np.linspace(-0.62, -0.14, 5)
    p[17:22] = np.stack([bx, -0.38 - 0.08 * np.sin(np.pi * (bx + 0.62) / 0.48)], 1)
    p[22:27] = p[17:22][::-1] * [-1, 1]
    p[27:31] = np.stack([np.zeros(4), np.linspace(-0.24, 0.1, 4)], 1)
    nx = np.linspace(-0.16, 0.16, 5)
    p[31:36] = np.stack([nx, 0.2 + 0.04 * np.abs(nx) / 0.16], 1)
    w, h = 0.13, 0.06
    eye = np.array([[-w, 0], [-w / 3, -h], [w / 3, -h], [w, 0], [w / 3, h], [-w / 3, h]])
    p[36:42] = eye + [-0.33, -0.18]
    p[42:48] = eye + [0.33, -0.18]
    mw = 0.3
    p[48:60] = np.array([[-mw, 0], [-2 * mw / 3, -0.08], [-mw / 3, -0.11], [0, -0.09],
                         [mw / 3, -0.11], [2 * mw / 3, -0.08], [mw, 0], [2 * mw / 3, 0.1],
                         [mw / 3, 0.14], [0, 0.15], [-mw / 3, 0.14], [-2 * mw / 3, 0.1]])
    p[60:68] = np.array([[-0.8 * mw, 0], [-mw / 3, -0.03], [0, -0.03], [mw / 3, -0.03],
                         [0.8 * mw, 0], [mw / 3, 0.03], [0, 0.03], [-mw / 3, 0.03]])
    p[48:68, 1] += 0.5
    return p


FACE_TEMPLATE = _face_template()
