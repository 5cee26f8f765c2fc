"""Models. Each sub-package registers its modules on import."""
from . import augmenters, detectors, heads, lifting, losses, semi_pose  # noqa: F401
