"""Metrics (registered in mmpose's / mmdet's METRICS on import)."""
from . import group_coco_metric  # noqa: F401  (mmdet METRICS)
from .face_metrics import FaceLandmarkMetric
from .lifting_metrics import LiftingMPJPE, LiftingStageMPJPE, LiftingStagePCK

__all__ = ['FaceLandmarkMetric', 'LiftingMPJPE', 'LiftingStageMPJPE', 'LiftingStagePCK']
