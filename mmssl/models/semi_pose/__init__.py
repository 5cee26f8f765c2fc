"""Semi-supervised top-down pose models (registered in mmpose's MODELS on import)."""
from .pose_dual import PoseCons, PoseDual

__all__ = ['PoseCons', 'PoseDual']
