"""Data transforms (registered in mmpose's TRANSFORMS on import)."""
from .binned_occlusion_cells import BinnedOcclusionCells
from .binned_scale_rotation import BinnedScaleRotation
from .clipped_bbox_transform import ClippedNormalBBoxTransform
from .joint_cutout import JointCutout
from .photometric_randaugment import PhotometricRandAugment
from .random_gaussian_blur import RandomGaussianBlur
from .random_occlusion_box import RandomOcclusionBox
from .semi_packing import PackSemiPoseInputs, PoseMultiBranch
from .stld_source import STLDSetSource
from .topdown_affine_with_matrix import TopdownAffineWithMatrix, flip_matrix
from .uniform_bbox_transform import UniformBBoxTransform

__all__ = [
    'BinnedOcclusionCells', 'BinnedScaleRotation', 'JointCutout',
    'ClippedNormalBBoxTransform', 'PackSemiPoseInputs', 'PhotometricRandAugment',
    'PoseMultiBranch', 'RandomGaussianBlur', 'RandomOcclusionBox', 'STLDSetSource',
    'TopdownAffineWithMatrix', 'UniformBBoxTransform', 'flip_matrix'
]
