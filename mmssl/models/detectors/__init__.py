"""Class-imbalanced semi-supervised detection (seed 004): GbR loss, GbT, CI Soft Teacher.

Registered into ``mmdet.registry.MODELS`` on import.
"""
from .ci_soft_teacher import CISoftTeacher
from .class_weight_solver import (LearnableClassWeights, balance_residual, jacobi_step,
                                  jacobi_target, solve_balance_direct)
from .gbr_loss import GbRCrossEntropyLoss
from .gbt_thresholds import ClassWiseThresholds, gbt_thresholds
from .gradient_matrix import (GradientMatrixAccumulator, positive_negative_gradients,
                              softmax_ce_grad_matrix)

__all__ = [
    'CISoftTeacher', 'GbRCrossEntropyLoss', 'ClassWiseThresholds', 'gbt_thresholds',
    'GradientMatrixAccumulator', 'softmax_ce_grad_matrix', 'positive_negative_gradients',
    'LearnableClassWeights', 'jacobi_step', 'jacobi_target', 'solve_balance_direct',
    'balance_residual'
]
