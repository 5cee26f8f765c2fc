"""Data transforms (registered in mmpose's TRANSFORMS on import)."""
from .clipped_bbox_transform import ClippedNormalBBoxTransform
from .photometric_randaugment import PhotometricRandAugment
from .semi_packing import PackSemiPoseInputs, PoseMultiBranch
from .stld_source import STLDSetSource
from .topdown_affine_with_matrix import TopdownAffineWithMatrix, flip_matrix

__all__ = [
    'ClippedNormalBBoxTransform', 'PackSemiPoseInputs', 'PhotometricRandAugment',
    'PoseMultiBranch', 'STLDSetSource', 'TopdownAffineWithMatrix', 'flip_matrix'
]
