"""Class-imbalanced semi-supervised detection (seed 004): GbR loss, GbT, CI teacher-students.

Registered into ``mmdet.registry.MODELS`` on import.
"""
from .applied_gradients import AppliedGradientMeter, applied_gradients
from .ci_pseudo_label_mixin import CIPseudoLabelMixin
from .ci_semi_base import CISemiBaseDetector
from .ci_soft_teacher import CISoftTeacher
from .class_weight_solver import (LearnableClassWeights, balance_residual, jacobi_step,
                                  direct_weights, jacobi_target, solve_balance_direct)
from .gbr_loss import GbRCrossEntropyLoss
from .gbt_thresholds import ClassWiseThresholds, gbt_thresholds
from .gradient_matrix import (GradientMatrixAccumulator, positive_negative_gradients,
                              softmax_ce_grad_matrix)

__all__ = [
    'CISoftTeacher', 'CISemiBaseDetector', 'CIPseudoLabelMixin', 'GbRCrossEntropyLoss',
    'ClassWiseThresholds', 'gbt_thresholds', 'GradientMatrixAccumulator',
    'softmax_ce_grad_matrix', 'positive_negative_gradients', 'LearnableClassWeights',
    'jacobi_step', 'jacobi_target', 'solve_balance_direct', 'direct_weights', 'balance_residual',
    'AppliedGradientMeter', 'applied_gradients'
]
