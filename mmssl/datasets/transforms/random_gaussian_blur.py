"""Gaussian blur with a random radius (STLD's release augmentation).

The release (seed 003, ``lib/data_utils.py``, ``random_blur``) blurs its crop with
probability 0.3 (``random() > 0.7``) by PIL's ``ImageFilter.GaussianBlur(radius)`` with
``radius = 2 * U(0, 1)``. This transform applies the same PIL filter (same kernel; PIL filters
each channel alike, so BGR order does not matter). mmpose's ``Albumentation`` wrapper would
need the albumentations package, which the project's stack does not install (its 2.x wheels
pull in opencv-python-headless next to the opencv-python mmcv uses).
"""
from typing import Dict, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmpose.registry import TRANSFORMS
from PIL import Image, ImageFilter


@TRANSFORMS.register_module()
class RandomGaussianBlur(BaseTransform):
    """Blur ``results['img']`` (uint8) with PIL's Gaussian blur of radius ``U(0, max_radius)``.

    Args:
        prob (float): Probability of blurring. Defaults to 0.3.
        max_radius (float): Largest radius (the Gaussian's standard deviation in pixels).
            Defaults to 2.0.
    """

    def __init__(self, prob: float = 0.3, max_radius: float = 2.0) -> None:
        super().__init__()
        if not 0 <= prob <= 1:
            raise ValueError(f'RandomGaussianBlur: prob must be in [0, 1], got {prob}')
        if max_radius < 0:
            raise ValueError(f'RandomGaussianBlur: max_radius must be >= 0, got {max_radius}')
        self.prob, self.max_radius = prob, float(max_radius)

    @cache_randomness
    def _draw(self) -> Tuple[bool, float]:
        return bool(np.random.rand() < self.prob), float(np.random.rand() * self.max_radius)

    def transform(self, results: Dict) -> Dict:
        blur, radius = self._draw()
        if not blur or radius <= 0:
            return results
        img = results['img']
        if img.dtype != np.uint8:
            raise TypeError(f'RandomGaussianBlur needs a uint8 image, got {img.dtype}')
        out = Image.fromarray(np.ascontiguousarray(img)).filter(ImageFilter.GaussianBlur(radius))
        results['img'] = np.array(out)  # writable, as later transforms expect
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(prob={self.prob}, max_radius={self.max_radius})'
