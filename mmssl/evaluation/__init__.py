"""Metrics (registered in mmpose's / mmdet's METRICS on import)."""
from . import group_coco_metric  # noqa: F401  (mmdet METRICS)
from .face_metrics import FaceLandmarkMetric

__all__ = ['FaceLandmarkMetric']
