"""Data transforms (registered in mmpose's TRANSFORMS on import)."""
from .clipped_bbox_transform import ClippedNormalBBoxTransform
from .photometric_randaugment import PhotometricRandAugment
from .semi_packing import PackSemiPoseInputs, PoseMultiBranch
from .topdown_affine_with_matrix import TopdownAffineWithMatrix, flip_matrix

__all__ = [
    'ClippedNormalBBoxTransform', 'PackSemiPoseInputs', 'PhotometricRandAugment', 'PoseMultiBranch',
    'TopdownAffineWithMatrix', 'flip_matrix'
]
