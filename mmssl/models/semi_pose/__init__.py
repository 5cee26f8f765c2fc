"""Semi-supervised top-down pose models (registered in mmpose's MODELS on import)."""
from .multi_branch_data_preprocessor import MultiBranchPoseDataPreprocessor
from .pose_dual import PoseCons, PoseDual

__all__ = ['MultiBranchPoseDataPreprocessor', 'PoseCons', 'PoseDual']
