"""TopdownAffine that records the geometric transform it (and the flip before it) applied.

Teacher outputs on an unlabeled view must be mapped with the exact transform that produced
the view, never re-derived from ``input_center``/``input_scale`` (which drop the rotation and
the flip). mmpose's ``TopdownAffine`` does not keep its matrix, so this subclass stores
``warp_mat``: the 3x3 homogeneous matrix from original-image pixels to input pixels,
including a preceding ``RandomFlip`` (mmpose flips pixels as ``x -> w - 1 - x``), so that
``warp_mat @ [x, y, 1]`` maps an original keypoint exactly as the pipeline maps the labels.
"""
from typing import Dict, Optional

import numpy as np
from mmpose.datasets.transforms import TopdownAffine
from mmpose.registry import TRANSFORMS
from mmpose.structures.bbox import get_udp_warp_matrix, get_warp_matrix


def flip_matrix(direction: Optional[str], width: int, height: int) -> np.ndarray:
    """3x3 matrix of mmpose's image flip in ``direction`` (None: identity)."""
    mat = np.eye(3)
    if direction in ('horizontal', 'diagonal'):
        mat[0, 0], mat[0, 2] = -1., width - 1.
    if direction in ('vertical', 'diagonal'):
        mat[1, 1], mat[1, 2] = -1., height - 1.
    return mat


@TRANSFORMS.register_module()
class TopdownAffineWithMatrix(TopdownAffine):
    """``TopdownAffine`` + ``results['warp_mat']`` (3x3, original image -> input).

    Args: as :class:`mmpose.datasets.transforms.TopdownAffine`.
    """

    def transform(self, results: Dict) -> Optional[dict]:
        results = super().transform(results)
        w, h = self.input_size
        center, scale = results['input_center'], results['input_scale']
        rot = results['bbox_rotation'][0] if 'bbox_rotation' in results else 0.
        if self.use_udp:
            affine = get_udp_warp_matrix(center, scale, rot, output_size=(w, h))
        else:
            affine = get_warp_matrix(center, scale, rot, output_size=(w, h))
        warp = np.eye(3)
        warp[:2] = affine
        if results.get('flip', False):
            img_h, img_w = results['ori_shape'][:2]
            warp = warp @ flip_matrix(results['flip_direction'], img_w, img_h)
        results['warp_mat'] = warp.astype(np.float32)
        return results
