"""A random-colour occlusion box on the input crop (STLD's release augmentation).

The release (seed 003, ``lib/data_utils.py``, ``random_occlusion``) paints, with probability
0.5, one box of a random colour (each channel ``int(U(0, 255))``) on its 256 px crop: height
``int(0.4 H U(0, 1))``, width ``int(0.4 W U(0, 1))``, top-left corner
``int((W - w - 10) U(0, 1))``, ``int((H - h - 10) U(0, 1))``. It does so *before* flipping and
rotating the crop, so the box is rotated with the image. Here the geometry of the whole view is
one ``TopdownAffine`` warp, so this transform runs after it and maps the box drawn in the
un-rotated crop frame through the view's rotation (``W_rot @ inv(W_0)``, both mmpose warp
matrices of the same box), painting the rotated quadrilateral. The flip before the box is left
out: it mirrors a box drawn uniformly over the crop, which changes its distribution only by
the release's 10 px margin. Keypoints and their weights are unchanged (as in the release).
"""
from typing import Dict, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmpose.registry import TRANSFORMS
from mmpose.structures.bbox import get_warp_matrix


@TRANSFORMS.register_module()
class RandomOcclusionBox(BaseTransform):
    """Paint a random-colour box (rotated with the view) on ``results['img']``.

    Place after ``TopdownAffine`` (it reads ``input_center``, ``input_scale``,
    ``input_size`` and ``bbox_rotation``).

    Args:
        prob (float): Probability of painting a box. Defaults to 0.5.
        max_size (float): Largest box side as a fraction of the crop side. Defaults to 0.4.
        margin (int): The release's margin in pixels kept at the right/bottom when drawing
            the corner. Defaults to 10.
    """

    def __init__(self, prob: float = 0.5, max_size: float = 0.4, margin: int = 10) -> None:
        super().__init__()
        if not 0 <= prob <= 1:
            raise ValueError(f'RandomOcclusionBox: prob must be in [0, 1], got {prob}')
        if not 0 < max_size <= 1:
            raise ValueError(f'RandomOcclusionBox: max_size must be in (0, 1], got {max_size}')
        self.prob, self.max_size, self.margin = prob, max_size, int(margin)

    @cache_randomness
    def _draw(self) -> Tuple[bool, np.ndarray]:
        """Whether to paint, and (u_h, u_w, u_x, u_y, colour b, g, r) uniforms."""
        return bool(np.random.rand() < self.prob), np.random.rand(7)

    def box_corners(self, width: int, height: int, u: np.ndarray) -> np.ndarray:
        """The 4 corners ``(4, 2)`` of the box in the un-rotated crop frame (release rule)."""
        h = int(height * self.max_size * u[0])
        w = int(width * self.max_size * u[1])
        x0 = int((width - w - self.margin) * u[2])
        y0 = int((height - h - self.margin) * u[3])
        return np.array([[x0, y0], [x0 + w, y0], [x0 + w, y0 + h], [x0, y0 + h]],
                        np.float32)

    def transform(self, results: Dict) -> Dict:
        paint, u = self._draw()
        if not paint:
            return results
        if 'input_center' not in results:
            raise KeyError('RandomOcclusionBox must come after TopdownAffine in the pipeline '
                           '(no "input_center" in the results)')
        img = results['img']
        height, width = img.shape[:2]
        corners = self.box_corners(width, height, u)
        if corners[1, 0] <= corners[0, 0] or corners[2, 1] <= corners[1, 1]:
            return results  # an empty box (int() of a small draw), as in the release
        rot = float(results['bbox_rotation'][0]) if 'bbox_rotation' in results else 0.
        if rot:
            center, scale = results['input_center'], results['input_scale']
            size = (width, height)
            w_rot, w_0 = np.eye(3), np.eye(3)
            w_rot[:2] = get_warp_matrix(center, scale, rot, output_size=size)
            w_0[:2] = get_warp_matrix(center, scale, 0., output_size=size)
            corners = cv2.transform(corners[None], (w_rot @ np.linalg.inv(w_0))[:2])[0]
        colour = [int(v * 255) for v in u[4:7]]
        if img.ndim == 2:
            colour = colour[0]
        img = np.ascontiguousarray(img)
        cv2.fillConvexPoly(img, np.round(corners).astype(np.int32), colour)
        results['img'] = img
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, max_size={self.max_size}, '
                f'margin={self.margin})')
