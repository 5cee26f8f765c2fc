"""Data transforms (registered in mmpose's TRANSFORMS on import)."""
from .semi_packing import PackSemiPoseInputs, PoseMultiBranch
from .topdown_affine_with_matrix import TopdownAffineWithMatrix, flip_matrix

__all__ = ['PackSemiPoseInputs', 'PoseMultiBranch', 'TopdownAffineWithMatrix', 'flip_matrix']
