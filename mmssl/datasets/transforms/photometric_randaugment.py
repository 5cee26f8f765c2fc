"""Photometric RandAugment for the hard view of PoseDual (seed 000).

N ops drawn with replacement from a photometric-only list (no rotate, shear or translate:
the geometry of the hard view is made on the batch tensor, where it is tracked), each at
magnitude M on a 0-30 scale: ``v = M / 30 * (max - min) + min``. Only ``results['img']``
changes; keypoints, boxes and matrices are left as they are.
"""
from typing import Callable, Dict, List, Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmpose.registry import TRANSFORMS
from PIL import Image, ImageEnhance, ImageOps

# name: (min, max) of the magnitude range (None: no magnitude)
OPS = {
    'AutoContrast': None,
    'Equalize': None,
    'Invert': None,
    'Posterize': (0, 4),
    'Solarize': (0, 256),
    'SolarizeAdd': (0, 110),
    'Color': (0, 0.9),
    'Contrast': (0, 0.9),
    'Brightness': (0, 0.9),
    'Sharpness': (0, 0.9),
    'CutoutAbs': (0, 80),
}


def _enhance(cls: Callable) -> Callable:
    return lambda img, v, rng: cls(img).enhance(1 + v * rng.choice([-1, 1]))


def _solarize_add(img: Image.Image, v: float, rng) -> Image.Image:
    arr = np.asarray(img).astype(np.int32)
    arr = np.where(arr < 128, np.minimum(arr + int(v), 255), arr)
    return Image.fromarray(arr.astype(np.uint8))


def _cutout(img: Image.Image, v: float, rng) -> Image.Image:
    arr = np.array(img)
    h, w = arr.shape[:2]
    cx, cy, half = rng.integers(0, w), rng.integers(0, h), int(v / 2)
    arr[max(0, cy - half):cy + half, max(0, cx - half):cx + half] = 128
    return Image.fromarray(arr)


APPLY: Dict[str, Callable] = {
    'AutoContrast': lambda img, v, rng: ImageOps.autocontrast(img),
    'Equalize': lambda img, v, rng: ImageOps.equalize(img),
    'Invert': lambda img, v, rng: ImageOps.invert(img),
    'Posterize': lambda img, v, rng: ImageOps.posterize(img, max(2, 6 - int(v))),
    'Solarize': lambda img, v, rng: ImageOps.solarize(img, 256 - v),
    'SolarizeAdd': _solarize_add,
    'Color': _enhance(ImageEnhance.Color),
    'Contrast': _enhance(ImageEnhance.Contrast),
    'Brightness': _enhance(ImageEnhance.Brightness),
    'Sharpness': _enhance(ImageEnhance.Sharpness),
    'CutoutAbs': _cutout,
}


@TRANSFORMS.register_module()
class PhotometricRandAugment(BaseTransform):
    """RandAugment restricted to photometric ops.

    Args:
        num_ops: N, ops applied per image (drawn with replacement; seed: 2).
        magnitude: M on the 0-30 scale (seed: 20).
        ops: names from :data:`OPS` (default: all).
    """

    def __init__(self, num_ops: int = 2, magnitude: float = 20.,
                 ops: Optional[List[str]] = None) -> None:
        self.ops = list(ops or OPS)
        unknown = [op for op in self.ops if op not in OPS]
        if unknown:
            raise ValueError(f'unknown RandAugment ops {unknown}; choose from {list(OPS)}')
        if not 0 <= magnitude <= 30:
            raise ValueError(f'magnitude must be in [0, 30], got {magnitude}')
        self.num_ops, self.magnitude = num_ops, magnitude

    @cache_randomness
    def _choose(self) -> List[str]:
        return list(np.random.choice(self.ops, self.num_ops, replace=True))

    def value(self, op: str) -> float:
        lo, hi = OPS[op] or (0, 0)
        return self.magnitude / 30. * (hi - lo) + lo

    def transform(self, results: dict) -> dict:
        rng = np.random.default_rng(np.random.randint(2**31))
        img = Image.fromarray(np.ascontiguousarray(results['img'][..., ::-1]))  # BGR->RGB
        for op in self._choose():
            img = APPLY[op](img, self.value(op), rng)
        results['img'] = np.ascontiguousarray(np.asarray(img)[..., ::-1])
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(num_ops={self.num_ops}, magnitude={self.magnitude})'
