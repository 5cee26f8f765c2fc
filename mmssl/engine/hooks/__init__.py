"""Hooks (registered on import)."""
from .keypoint_count_check_hook import KeypointCountCheckHook, check_keypoint_counts

__all__ = ['KeypointCountCheckHook', 'check_keypoint_counts']
