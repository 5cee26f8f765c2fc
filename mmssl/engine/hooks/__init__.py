"""Hooks (registered on import)."""
from .collapse_monitor_hook import CollapseMonitorHook
from .keypoint_count_check_hook import KeypointCountCheckHook, check_keypoint_counts

__all__ = ['CollapseMonitorHook', 'KeypointCountCheckHook', 'check_keypoint_counts']
