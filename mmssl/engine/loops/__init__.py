"""Training/validation loops (registered in mmengine's LOOPS on import)."""
from .multi_model_val_loop import MultiModelTestLoop, MultiModelValLoop

__all__ = ['MultiModelTestLoop', 'MultiModelValLoop']
