"""Metrics (registered in mmpose's / mmdet's METRICS on import)."""
from . import group_coco_metric  # noqa: F401  (mmdet METRICS)
from .face_metrics import FaceLandmarkMetric
from .landmark_mre import LandmarkMRE
from .lifting_metrics import LiftingMPJPE, LiftingStageMPJPE, LiftingStagePCK

__all__ = ['FaceLandmarkMetric', 'LandmarkMRE', 'LiftingMPJPE', 'LiftingStageMPJPE',
           'LiftingStagePCK']
