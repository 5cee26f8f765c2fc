"""Losses (registered in ``mmpose.registry.MODELS`` on import)."""
from .shrink_loss import LpShrinkLoss, lp_shrink_loss

__all__ = ['LpShrinkLoss', 'lp_shrink_loss']
