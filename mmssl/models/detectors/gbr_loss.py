"""Gradient-based Reweighting (GbR) cross-entropy loss for MMDetection box heads.

A drop-in ``loss_cls`` for softmax box heads (``Shared2FCBBoxHead`` ...)::

    roi_head=dict(bbox_head=dict(loss_cls=dict(
        type='GbRCrossEntropyLoss', num_classes=80, warmup_iters=4000)))

Each RoI's cross entropy is multiplied by ``w_y ** beta / m_branch``: ``w`` are the class
weights that balance positive and negative gradients (:mod:`.class_weight_solver`), ``y``
the RoI's label (background included), ``beta`` depends on the loss *branch* (seed: 0.5 for
labeled, 1 for unlabeled data) and ``m_branch`` is a running mean of ``w_y ** beta`` that
keeps the loss scale stable. The loss records the gradient matrix of every training call;
:class:`~mmssl.engine.hooks.ci_ssod_statistics_hook.CISSODStatisticsHook` calls
:meth:`GbRCrossEntropyLoss.step` once per iteration to all-reduce it across ranks, update
the running statistics and solve the weights. During the first ``warmup_iters`` steps the
weights stay 1 and the matrix is a running mean; afterwards it is an EMA (seed section 6).

The branch is chosen by the detector with :meth:`GbRCrossEntropyLoss.branch`; a plain
supervised detector always uses ``default_branch``. Calls inside ``branch(None)`` neither
record statistics nor reweight (Soft Teacher's regression-only R-CNN pass).
"""
import warnings
from contextlib import contextmanager
from typing import Dict, Iterator, Optional

import torch
import torch.nn.functional as F
from mmdet.models.losses.utils import weight_reduce_loss
from mmdet.registry import MODELS
from mmengine.dist import all_reduce
from torch import Tensor, nn

from .applied_gradients import AppliedGradientMeter, gradient_coefficients
from .class_weight_solver import LearnableClassWeights, direct_weights, jacobi_step
from .gradient_matrix import GradientMatrixAccumulator, positive_negative_gradients

_DEFAULT_BRANCHES = dict(sup=dict(beta=0.5, grad_scale=1.0), unsup=dict(beta=1.0, grad_scale=4.0))


@MODELS.register_module()
class GbRCrossEntropyLoss(nn.Module):
    """Softmax cross entropy reweighted per class by gradient balance (GbR).

    Args:
        num_classes (int): Foreground classes n; the classifier has n + 1 logits.
        branches (dict): Branch name -> ``dict(beta, grad_scale)``. ``beta`` is the
            exponent of the class weight for that branch's RoIs; ``grad_scale`` multiplies
            that branch's gradient matrix (the release scales the unlabeled matrix by the
            unlabeled loss weight, 4). Defaults: sup beta 0.5 / scale 1, unsup beta 1 /
            scale 4.
        default_branch (str): Branch used when no detector selects one (plain supervised
            training). Defaults to 'sup'.
        warmup_iters (int): Iterations with w = 1 and a running-mean matrix (seed: 4000 on
            COCO, 16000 on Objects365/LVIS). Defaults to 4000.
        momentum (float): EMA keep rate of the matrix and of the weight normaliser after
            warm-up. Defaults to 0.999.
        solver (str): 'jacobi' (one Jacobi step per iteration), 'learnable' (softmax
            parameters trained to mimic it, seed section 2) or 'direct' (the projected
            direct solution of the equations every iteration, :func:`direct_weights`; seed
            section 2's comparison). Defaults to 'learnable'.
        jacobi_damping (float): Step size of the 'jacobi' solver; the undamped step (1.0)
            oscillates when the background weight's solution is inside its clamps (see
            :func:`jacobi_step`). Defaults to 0.5.
        min_weight (float): Lower clamp of all weights. Defaults to 1/3.
        max_weight (float): Upper clamp of foreground weights. Defaults to 5.
        max_bg_weight (float): Upper clamp of the background weight. Defaults to 1.
        learnable_lr (float): Learning rate of the learnable variant. Defaults to 0.01.
        learnable_momentum (float): Its SGD momentum. Defaults to 0.9.
        reweight (bool): Apply the weights. False only records and solves them (a plain
            cross entropy that logs the gradient statistics, for baselines). Defaults to
            True.
        reduction (str): 'none', 'mean' or 'sum'. Defaults to 'mean'.
        loss_weight (float): Loss weight. Defaults to 1.0.
    """

    def __init__(self,
                 num_classes: int,
                 *,
                 branches: Optional[Dict[str, dict]] = None,
                 default_branch: str = 'sup',
                 warmup_iters: int = 4000,
                 momentum: float = 0.999,
                 solver: str = 'learnable',
                 jacobi_damping: float = 0.5,
                 min_weight: float = 1.0 / 3.0,
                 max_weight: float = 5.0,
                 max_bg_weight: float = 1.0,
                 learnable_lr: float = 0.01,
                 learnable_momentum: float = 0.9,
                 reweight: bool = True,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f'num_classes must be >= 1, got {num_classes}')
        if solver not in ('jacobi', 'learnable', 'direct'):
            raise ValueError(f"solver must be 'jacobi', 'learnable' or 'direct', got "
                             f'{solver!r}')
        if reduction not in ('none', 'mean', 'sum'):
            raise ValueError(f"reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
        branches = dict(_DEFAULT_BRANCHES if branches is None else branches)
        if default_branch not in branches:
            raise ValueError(f'default_branch {default_branch!r} is not one of the branches '
                             f'{sorted(branches)}')
        for name, cfg in branches.items():
            unknown = set(cfg) - {'beta', 'grad_scale'}
            if unknown:
                raise ValueError(f'branch {name!r}: unknown keys {sorted(unknown)} '
                                 "(allowed: 'beta', 'grad_scale')")
        self.num_classes = num_classes
        self.branch_names = list(branches)
        self.register_buffer(
            'betas', torch.tensor([float(b.get('beta', 1.0)) for b in branches.values()]),
            persistent=False)
        self.register_buffer(
            'grad_scales',
            torch.tensor([float(b.get('grad_scale', 1.0)) for b in branches.values()]),
            persistent=False)
        self.default_branch = default_branch
        self.warmup_iters = warmup_iters
        self.momentum = momentum
        self.solver = solver
        self.jacobi_damping = jacobi_damping
        self.clamps = dict(
            min_weight=min_weight, max_weight=max_weight, max_bg_weight=max_bg_weight)
        self.reweight = reweight
        self.reduction = reduction
        self.loss_weight = loss_weight

        self.grad_stats = GradientMatrixAccumulator(
            num_classes + 1, len(branches), warmup_iters=warmup_iters, momentum=momentum)
        self.applied_grads = AppliedGradientMeter(
            num_classes + 1, len(branches), warmup_iters=warmup_iters, momentum=momentum)
        self.learnable = LearnableClassWeights(
            num_classes + 1, lr=learnable_lr, momentum=learnable_momentum, **
            self.clamps) if solver == 'learnable' else None
        self.register_buffer('class_weights', torch.ones(num_classes + 1))
        self.register_buffer('weight_norm', torch.ones(len(branches)))
        self._branch: Optional[int] = self.branch_names.index(default_branch)
        self._norm_pending: Optional[Tensor] = None
        self._calls_since_step = 0
        self.last_solver_loss: Optional[Tensor] = None

    # ----------------------------------------------------------------- state
    @property
    def num_updates(self) -> int:
        """Iterations folded into the statistics so far."""
        return int(self.grad_stats.num_updates)

    @property
    def is_active(self) -> bool:
        """Whether warm-up is over (weights are solved and applied)."""
        return self.num_updates >= self.warmup_iters

    @contextmanager
    def branch(self, name: Optional[str]) -> Iterator[None]:
        """Select the branch of the enclosed loss calls; None disables GbR inside."""
        if name is not None and name not in self.branch_names:
            raise KeyError(f'unknown GbR branch {name!r}; configured: {self.branch_names}')
        previous = self._branch
        self._branch = None if name is None else self.branch_names.index(name)
        try:
            yield
        finally:
            self._branch = previous

    # --------------------------------------------------------------- forward
    def forward(self,
                cls_score: Tensor,
                label: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None,
                **kwargs) -> Tensor:
        """Reweighted softmax cross entropy (same signature as mmdet's CrossEntropyLoss).

        Args:
            cls_score (Tensor): (N, n + 1) logits.
            label (Tensor): (N, ) labels, n = background.
            weight (Tensor, optional): (N, ) label weights of the box head / Soft Teacher.
            avg_factor (float, optional): Normaliser of the 'mean' reduction.
            reduction_override (str, optional): Overrides ``reduction``.

        Returns:
            Tensor: The loss.
        """
        if cls_score.size(-1) != self.num_classes + 1:
            raise ValueError(f'GbRCrossEntropyLoss(num_classes={self.num_classes}) expects '
                             f'{self.num_classes + 1} logits, got {cls_score.size(-1)}; set '
                             'loss_cls.num_classes to the box head num_classes')
        reduction = reduction_override if reduction_override else self.reduction
        label = label.long()
        sample_weight = cls_score.new_ones(label.shape) if weight is None else weight.float()
        loss = F.cross_entropy(cls_score, label, reduction='none')
        branch = self._branch
        if branch is not None:
            class_w = self.class_weights[label].pow(self.betas[branch])
            record = self.training
            if record:
                self._record(branch, cls_score, label, sample_weight, class_w)
            if self.reweight and self.is_active:
                sample_weight = sample_weight * (class_w / self.weight_norm[branch])
            if record:  # the weights of the loss actually returned
                self.applied_grads.add(
                    branch, cls_score, label,
                    gradient_coefficients(sample_weight, reduction, avg_factor,
                                          self.loss_weight))
        loss = weight_reduce_loss(
            loss, weight=sample_weight, reduction=reduction, avg_factor=avg_factor)
        return self.loss_weight * loss

    def _record(self, branch: int, cls_score: Tensor, label: Tensor,
                sample_weight: Tensor, class_w: Tensor) -> None:
        self.grad_stats.add(branch, cls_score, label, sample_weight)
        if self._norm_pending is None or self._norm_pending.device != cls_score.device:
            self._norm_pending = cls_score.new_zeros(len(self.branch_names), 2).float()
        self._norm_pending[branch, 0] += class_w.detach().float().sum()
        self._norm_pending[branch, 1] += label.numel()
        self._calls_since_step += 1
        if self._calls_since_step == 1000:
            warnings.warn('GbRCrossEntropyLoss recorded 1000 loss calls without a step(): '
                          "add dict(type='CISSODStatisticsHook') to custom_hooks, otherwise "
                          'the class weights are never solved')

    # ------------------------------------------------------------------ step
    @torch.no_grad()
    def step(self) -> bool:
        """Synchronise this iteration's statistics and update the class weights.

        Must be called on every rank once per iteration (collective all-reduce).

        Returns:
            bool: Whether any rank recorded RoIs (the statistics were updated).
        """
        self._calls_since_step = 0
        device = self.class_weights.device
        if self._norm_pending is None or self._norm_pending.device != device:
            self._norm_pending = torch.zeros(len(self.branch_names), 2, device=device)
        norm = self._norm_pending
        all_reduce(norm, op='sum')
        norm = norm.clone()
        self._norm_pending.zero_()
        self.applied_grads.step()
        batch = self.grad_stats.step(self.grad_scales)
        if batch is None:
            return False
        if not self.is_active:
            return True
        seen = norm[:, 1] > 0
        batch_mean = norm[:, 0] / norm[:, 1].clamp(min=1.0)
        self.weight_norm[seen] = (self.momentum * self.weight_norm[seen] +
                                  (1.0 - self.momentum) * batch_mean[seen])
        matrix = self.grad_stats.matrix
        if self.solver == 'direct':
            self.class_weights.copy_(direct_weights(matrix, **self.clamps))
        elif self.learnable is None:
            self.class_weights.copy_(
                jacobi_step(matrix, self.class_weights, damping=self.jacobi_damping,
                            **self.clamps))
        else:
            loss, _ = self.learnable.step(matrix)
            self.last_solver_loss = loss
            self.class_weights.copy_(self.learnable.constrained_weights())
        return True

    # --------------------------------------------------------------- logging
    def gradient_norms(self) -> Dict[str, Tensor]:
        """Per-class positive / negative gradients, each (n + 1, ).

        Returns:
            dict: From the solver's accumulated matrix: ``pos``/``neg`` without weights and
            ``pos_w``/``neg_w`` with the class weights on its rows (the solver's fixed point,
            balanced by construction once the weights converge; equal to ``pos``/``neg``
            during warm-up and with ``reweight=False``). What the loss really applied
            (:meth:`AppliedGradientMeter.gradients`): ``pos_app``/``neg_app``/``res_app``
            (branches combined with their ``grad_scale``) and
            ``pos_app_<branch>``/``neg_app_<branch>``/``res_app_<branch>``.
        """
        matrix = self.grad_stats.matrix
        pos, neg = positive_negative_gradients(matrix)
        if self.reweight and self.is_active:
            pos_w, neg_w = positive_negative_gradients(matrix, self.class_weights)
        else:
            pos_w, neg_w = pos.clone(), neg.clone()
        out = dict(pos=pos, neg=neg, pos_w=pos_w, neg_w=neg_w)
        out.update(self.applied_grads.gradients(self.branch_names, self.grad_scales))
        return out
