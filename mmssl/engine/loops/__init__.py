"""Training/validation loops (registered in mmengine's LOOPS on import)."""
from .multi_model_val_loop import MultiModelValLoop

__all__ = ['MultiModelValLoop']
