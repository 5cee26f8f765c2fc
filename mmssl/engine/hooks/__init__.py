"""Hooks (registered on import)."""
from . import (ci_ssod_crs_hook, ci_ssod_pseudo_quality_hook,  # noqa: F401  (mmdet HOOKS)
               ci_ssod_sampling_histogram_hook, ci_ssod_statistics_hook)
from .adversarial_stats_hook import AdversarialDistributionHook
from .collapse_monitor_hook import CollapseMonitorHook
from .keypoint_count_check_hook import KeypointCountCheckHook, check_keypoint_counts
from .source_pipeline_switch_hook import (SourcePipelineSwitchHook,
                                          refuse_unreachable_pipeline_switch)

__all__ = [
    'AdversarialDistributionHook', 'CollapseMonitorHook', 'KeypointCountCheckHook',
    'check_keypoint_counts', 'SourcePipelineSwitchHook', 'refuse_unreachable_pipeline_switch'
]
