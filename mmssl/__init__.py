"""mmssl: semi-supervised and adversarial-augmentation training for MMPose/MMDetection.

Importing this package (``custom_imports=dict(imports=['mmssl'])``) checks the installed
OpenMMLab versions, installs the safe checkpoint loader and registers every mmssl module:
pose parts into mmpose's registries, detection parts into mmdet's, and generic engine parts
(samplers, runners, hooks) into mmengine's root registries.
"""
from .version import __version__
from .compat import check_versions, install_safe_checkpoint_loading

check_versions()
install_safe_checkpoint_loading()

from . import datasets, engine, evaluation, models  # noqa: E402,F401  (registration)

__all__ = ['__version__']
