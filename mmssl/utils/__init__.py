"""Small helpers shared by the package, its tools and its tests."""
from .config_walk import walk_config

__all__ = ['walk_config']
