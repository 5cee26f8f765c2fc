"""Metrics (registered in mmpose's / mmdet's METRICS on import)."""
from .face_metrics import FaceLandmarkMetric

__all__ = ['FaceLandmarkMetric']
