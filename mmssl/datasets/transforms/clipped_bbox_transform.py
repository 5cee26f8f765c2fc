"""Box scale/rotation jitter drawn as clipped normals (the SimpleBaseline/PoseDual recipe).

mmpose's ``RandomBBoxTransform`` draws standard normals *truncated at +-1* and multiplies them
by a factor, so a rotation of ``clip(N(0, 30 deg), -60, 60)`` (seed 000's easy augmentation)
cannot be expressed with it. This subclass keeps its behaviour and outputs and only changes
how scale and rotation are drawn: ``clip(N(1, scale_sigma), *scale_range)`` and
``clip(N(0, rotate_sigma), -rotate_limit, rotate_limit)``.
"""
from typing import Tuple

import numpy as np
from mmcv.transforms.utils import cache_randomness
from mmpose.datasets.transforms import RandomBBoxTransform
from mmpose.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ClippedNormalBBoxTransform(RandomBBoxTransform):
    """``RandomBBoxTransform`` with clipped-normal scale and rotation.

    Args:
        scale_sigma: std of the scale factor around 1.
        scale_range: clip range of the scale factor.
        scale_prob: probability of scaling.
        rotate_sigma: std of the rotation in degrees.
        rotate_limit: clip bound of the rotation in degrees.
        rotate_prob: probability of rotating.
        shift_factor, shift_prob: as in ``RandomBBoxTransform`` (no shift by default).
    """

    def __init__(self, scale_sigma: float = 0.25,
                 scale_range: Tuple[float, float] = (0.75, 1.25), scale_prob: float = 1.0,
                 rotate_sigma: float = 30., rotate_limit: float = 60.,
                 rotate_prob: float = 0.6, shift_factor: float = 0.16,
                 shift_prob: float = 0.) -> None:
        super().__init__(shift_factor=shift_factor, shift_prob=shift_prob,
                         scale_factor=tuple(scale_range), scale_prob=scale_prob,
                         rotate_factor=rotate_limit, rotate_prob=rotate_prob)
        self.scale_sigma, self.scale_range = scale_sigma, tuple(scale_range)
        self.rotate_sigma, self.rotate_limit = rotate_sigma, rotate_limit

    @cache_randomness
    def _get_transform_params(self, num_bboxes: int) -> Tuple:
        offset = self._truncnorm(size=(num_bboxes, 2)) * self.shift_factor
        offset = np.where(np.random.rand(num_bboxes, 1) < self.shift_prob, offset, 0.)
        scale = np.clip(np.random.normal(1., self.scale_sigma, size=(num_bboxes, 1)),
                        *self.scale_range)
        scale = np.where(np.random.rand(num_bboxes, 1) < self.scale_prob, scale, 1.)
        rotate = np.clip(np.random.normal(0., self.rotate_sigma, size=num_bboxes),
                         -self.rotate_limit, self.rotate_limit)
        rotate = np.where(np.random.rand(num_bboxes) < self.rotate_prob, rotate, 0.)
        return offset, scale, rotate
