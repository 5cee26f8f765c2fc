"""Box shift and rotation drawn from uniform distributions (STLD's release augmentation).

STLD's release (seed 003, ``lib/data_utils.py``) translates its 256 px face crop by
``U(-30, 30)`` px in x and y with probability 0.5 and rotates it by ``U(-30, 30)`` degrees
about the crop centre with probability 0.5. mmpose's ``RandomBBoxTransform`` expresses the same
geometry (a box shift in units of the box size and a rotation about the box centre, applied by
``TopdownAffine``) but draws both from normals truncated at +-1, which concentrates the draws
near zero. This subclass keeps the parent's ``transform`` (and its outputs
``bbox_center``/``bbox_scale``/``bbox_rotation``) and only draws uniforms instead.
"""
from typing import Tuple

import numpy as np
from mmcv.transforms.utils import cache_randomness
from mmpose.datasets.transforms import RandomBBoxTransform
from mmpose.registry import TRANSFORMS


@TRANSFORMS.register_module()
class UniformBBoxTransform(RandomBBoxTransform):
    """``RandomBBoxTransform`` with uniform shift, scale and rotation.

    Args:
        shift_factor (float): Shift of the box centre, per axis ``U(-f, f)`` times the box
            size (the release: 30 px of a 256 px crop, ``30 / 256``). Defaults to 30 / 256.
        shift_prob (float): Probability of shifting (one draw for both axes, as the release).
            Defaults to 0.5.
        scale_factor (tuple[float, float]): ``U(lo, hi)`` range of the box scale factor.
            Defaults to (1.0, 1.0).
        scale_prob (float): Probability of scaling. Defaults to 0.0 (the release does not
            scale).
        rotate_factor (float): Rotation ``U(-r, r)`` in degrees. Defaults to 30.
        rotate_prob (float): Probability of rotating. Defaults to 0.5.
    """

    def __init__(self, shift_factor: float = 30. / 256, shift_prob: float = 0.5,
                 scale_factor: Tuple[float, float] = (1.0, 1.0), scale_prob: float = 0.0,
                 rotate_factor: float = 30., rotate_prob: float = 0.5) -> None:
        for name, p in (('shift_prob', shift_prob), ('scale_prob', scale_prob),
                        ('rotate_prob', rotate_prob)):
            if not 0 <= p <= 1:
                raise ValueError(f'UniformBBoxTransform: {name} must be in [0, 1], got {p}')
        if shift_factor < 0 or rotate_factor < 0:
            raise ValueError('UniformBBoxTransform: shift_factor and rotate_factor must be '
                             f'>= 0, got {shift_factor} and {rotate_factor}')
        if not 0 < scale_factor[0] <= scale_factor[1]:
            raise ValueError('UniformBBoxTransform: scale_factor must be (lo, hi) with '
                             f'0 < lo <= hi, got {scale_factor}')
        super().__init__(shift_factor=shift_factor, shift_prob=shift_prob,
                         scale_factor=tuple(scale_factor), scale_prob=scale_prob,
                         rotate_factor=rotate_factor, rotate_prob=rotate_prob)

    @cache_randomness
    def _get_transform_params(self, num_bboxes: int) -> Tuple:
        offset = np.random.uniform(-self.shift_factor, self.shift_factor, (num_bboxes, 2))
        offset = np.where(np.random.rand(num_bboxes, 1) < self.shift_prob, offset, 0.)
        scale = np.random.uniform(*self.scale_factor, size=(num_bboxes, 1))
        scale = np.where(np.random.rand(num_bboxes, 1) < self.scale_prob, scale, 1.)
        rotate = np.random.uniform(-self.rotate_factor, self.rotate_factor, num_bboxes)
        rotate = np.where(np.random.rand(num_bboxes) < self.rotate_prob, rotate, 0.)
        return (offset.astype(np.float32), scale.astype(np.float32),
                rotate.astype(np.float32))
