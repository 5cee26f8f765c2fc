"""Runners (registered in mmengine's root RUNNERS) and their stage helpers."""
from .pseudo_label_writer import PseudoLabelProgressHook, PseudoLabelWriter
from .self_training_plan import Stage, build_plan
from .self_training_runner import SelfTrainingRunner
from .stage_timer_hook import StageTimerHook

__all__ = ['PseudoLabelProgressHook', 'PseudoLabelWriter', 'SelfTrainingRunner', 'Stage',
           'StageTimerHook', 'build_plan']
