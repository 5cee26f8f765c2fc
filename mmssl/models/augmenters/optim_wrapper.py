"""Separate optimizers for the pose network D and the augmentation network G (seed 001).

The paper trains D and G with their own RMSprop optimizers and learning rates (D 2.5e-4
decayed on plateau; G 2.5e-4 in pre-training, 5e-5 in joint training). mmengine's
``OptimWrapperDict`` holds one wrapper per network but leaves the training step to the
model; :class:`JointOptimWrapperDict` adds the step: the model returns D's and G's losses
from one forward pass, their sum is back-propagated once (the two losses share no parameter:
G reads detached features and D's inputs are sampled from G's output, not differentiated
through it), then every optimizer steps on its own network. Because the model's ordinary
``train_step`` only calls ``optim_context`` and ``update_params``, the same config trains
single-process and under ``MMDistributedDataParallel`` (one forward, one backward, as DDP
requires).

Config::

    optim_wrapper = dict(
        constructor='AdversarialOptimWrapperConstructor',
        pose=dict(optimizer=dict(type='RMSprop', lr=2.5e-4)),
        augmenter=dict(optimizer=dict(type='RMSprop', lr=5e-5)))
    param_scheduler = dict(pose=[...], augmenter=[...])  # or one list for both
"""
from contextlib import contextmanager
from typing import Dict, Optional

import torch
import torch.nn as nn
from mmengine.model import is_model_wrapper
from mmengine.optim import (AmpOptimWrapper, DefaultOptimWrapperConstructor, OptimWrapper,
                            OptimWrapperDict)
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class JointOptimWrapperDict(OptimWrapperDict):
    """An ``OptimWrapperDict`` whose ``update_params`` back-propagates once and steps every
    wrapper (for models whose per-network losses touch disjoint parameters)."""

    def __init__(self, **optim_wrappers: OptimWrapper):
        super().__init__(**optim_wrappers)
        if not optim_wrappers:
            raise ValueError('JointOptimWrapperDict needs at least one optimizer wrapper')
        amp = [k for k, w in optim_wrappers.items() if isinstance(w, AmpOptimWrapper)]
        if amp:
            raise NotImplementedError(
                f'optimizer wrappers {amp} use AMP; one backward pass cannot serve separate '
                'gradient scalers: train the adversarial model without --amp')
        counts = {k: w._accumulative_counts for k, w in optim_wrappers.items()}
        if len(set(counts.values())) != 1:
            raise ValueError(f'accumulative_counts must be equal for all networks, got '
                             f'{counts}')

    @property
    def _first(self) -> OptimWrapper:
        return next(iter(self.optim_wrappers.values()))

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Gradient-accumulation context (DDP ``no_sync`` between updates)."""
        with self._first.optim_context(model):
            yield

    def update_params(self, loss: torch.Tensor, step_kwargs: Optional[Dict] = None,
                      zero_kwargs: Optional[Dict] = None) -> None:
        """One backward of the summed loss, then step and zero every wrapper."""
        loss = self._first.scale_loss(loss)
        loss.backward()
        for wrapper in self.optim_wrappers.values():
            wrapper._inner_count += 1
            if wrapper.should_update():
                wrapper.step(**(step_kwargs or {}))
                wrapper.zero_grad(**(zero_kwargs or {}))


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class AdversarialOptimWrapperConstructor:
    """Build a :class:`JointOptimWrapperDict` with one wrapper per named sub-network.

    Args:
        optim_wrapper_cfg: ``{name: wrapper config}``, ``name`` an attribute of the model
            (``pose``, ``augmenter``); each value is an ordinary optim wrapper config
            (``type`` defaults to ``OptimWrapper``).
        paramwise_cfg: applied to every sub-network (optional).
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None):
        cfg = dict(optim_wrapper_cfg)
        top_type = cfg.pop('type', None)
        if top_type == 'AmpOptimWrapper':
            raise NotImplementedError('mixed precision (--amp) is not supported by the '
                                      'adversarial model: one backward pass cannot serve two '
                                      'gradient scalers')
        if top_type not in (None, 'JointOptimWrapperDict', 'OptimWrapperDict'):
            raise ValueError(f'optim_wrapper.type={top_type!r} does not apply to the '
                             'adversarial model: set the wrapper type per network')
        cfg.pop('loss_scale', None)
        bad = [k for k, v in cfg.items() if not isinstance(v, dict) or 'optimizer' not in v]
        if bad or not cfg:
            raise ValueError('optim_wrapper needs one dict(optimizer=...) per network (keys '
                             f'such as pose, augmenter); not a wrapper config: {bad}')
        self.cfgs = cfg
        self.paramwise_cfg = paramwise_cfg

    def __call__(self, model: nn.Module) -> JointOptimWrapperDict:
        if is_model_wrapper(model):
            model = model.module
        wrappers = {}
        for name, cfg in self.cfgs.items():
            sub = getattr(model, name, None)
            if not isinstance(sub, nn.Module):
                raise AttributeError(f'optim_wrapper.{name}: the model has no sub-network '
                                     f'named {name!r}')
            cfg = dict(cfg)
            cfg.setdefault('type', 'OptimWrapper')
            wrappers[name] = DefaultOptimWrapperConstructor(cfg, self.paramwise_cfg)(sub)
        return JointOptimWrapperDict(**wrappers)


__all__ = ['JointOptimWrapperDict', 'AdversarialOptimWrapperConstructor']
