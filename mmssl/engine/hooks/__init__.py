"""Hooks (registered on import)."""
from .adversarial_stats_hook import AdversarialDistributionHook
from .collapse_monitor_hook import CollapseMonitorHook
from .keypoint_count_check_hook import KeypointCountCheckHook, check_keypoint_counts

__all__ = [
    'AdversarialDistributionHook', 'CollapseMonitorHook', 'KeypointCountCheckHook',
    'check_keypoint_counts'
]
