"""Refreshes the class-rebalancing sampler (CrS) from the teacher's pseudo-labels.

Needs ``CISoftTeacher`` (which records, per unlabeled image, the class and score margin
``score - theta_c`` of every pseudo-label it keeps) and ``ClassRebalancingSampler`` as the
train sampler::

    custom_hooks = [dict(type='CrSRefreshHook', interval=4000, lam=0.5)]

Every iteration the new records of all ranks are gathered (a few images per rank) into the
store of all pseudo-labeled images, identical on every rank (the latest record of an image
wins). Every ``interval`` iterations the sampler's unlabeled repeat factors are recomputed
from the store with ``lambda = min(lam * iter / ramp_iters, lam)`` (release: lambda grows
linearly to 0.5 over training). ``mode='rfs'`` uses the same refreshes and lambda with
repeat-factor sampling on the pseudo-labels instead (no score margin; seed Table 3, row
RFS / RFS). Because the store is complete on every rank at all times,
checkpoints (written by rank 0 only, no collective possible there) hold all of it; it is
saved as tensors (safe for ``weights_only`` loading). The checkpoint also holds the sampler's
stream state (:meth:`ClassRebalancingSampler.state_dict`: seed, factors in use, start of the
latest segments), which a resumed run restores instead of recomputing the factors, so it
draws exactly the indices of the uninterrupted run; checkpoints without it (older ones) get a
refresh from the store.
"""
from typing import Dict, Optional, Tuple

import numpy as np
import torch
from mmengine.dist import all_gather_object
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from mmssl.datasets.class_rebalancing_sampler import ClassRebalancingSampler

Record = Tuple[np.ndarray, np.ndarray]
_CKPT_KEY = 'ci_ssod_crs'


@HOOKS.register_module()
class CrSRefreshHook(Hook):
    """Periodic CrS refresh of the unlabeled repeat factors (see the module docstring).

    Args:
        interval (int): Iterations between refreshes (release: 4000). Defaults to 4000.
        lam (float): Final lambda (0.5 on COCO). Defaults to 0.5.
        ramp_iters (int, optional): Iterations over which lambda grows linearly from 0;
            None uses the run's ``max_iters``.
        mode (str): 'crs' (score-weighted, the method) or 'rfs' (RFS on the pseudo-labels,
            an ablation). Defaults to 'crs'.
    """

    priority = 'NORMAL'

    def __init__(self, interval: int = 4000, lam: float = 0.5,
                 ramp_iters: Optional[int] = None, mode: str = 'crs') -> None:
        if mode not in ('crs', 'rfs'):
            raise ValueError(f"CrSRefreshHook: mode must be 'crs' or 'rfs', got {mode!r}")
        self.mode = mode
        if interval < 1 or lam < 0 or (ramp_iters is not None and ramp_iters < 1):
            raise ValueError(f'need interval >= 1, lam >= 0, ramp_iters >= 1 or None; got '
                             f'{interval}, {lam}, {ramp_iters}')
        self.interval = interval
        self.lam = lam
        self.ramp_iters = ramp_iters
        self.store: Dict[int, Record] = {}
        self._pending: Dict[int, Record] = {}
        self.last_factors: Optional[np.ndarray] = None
        self._sampler_state: Optional[dict] = None  # from a checkpoint, applied before_train

    @staticmethod
    def _model(runner):
        return runner.model.module if is_model_wrapper(runner.model) else runner.model

    @staticmethod
    def _sampler(runner) -> ClassRebalancingSampler:
        sampler = runner.train_dataloader.sampler
        if not isinstance(sampler, ClassRebalancingSampler):
            raise TypeError('CrSRefreshHook needs train_dataloader.sampler of type '
                            f"'ClassRebalancingSampler', got {type(sampler).__name__}")
        return sampler

    def current_lambda(self, runner) -> float:
        ramp = self.ramp_iters or max(int(runner.max_iters), 1)
        return min(self.lam * runner.iter / ramp, self.lam)

    def before_train(self, runner) -> None:
        model = self._model(runner)
        if not hasattr(model, 'pop_pseudo_label_records'):
            raise TypeError('CrSRefreshHook needs a detector that records pseudo-labels '
                            f"(type='CISoftTeacher'), got {type(model).__name__}")
        self._sampler(runner)
        model.record_pseudo_labels = True
        if self._sampler_state is not None:  # resumed: continue the saved streams
            sampler = self._sampler(runner)
            sampler.load_state_dict(self._sampler_state)
            self._sampler_state = None
            self.last_factors = sampler.repeat_factors[1].numpy().copy()
        elif self.store:  # resumed from a checkpoint without sampler state
            self._refresh(runner)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        for img_id, labels, margins in self._model(runner).pop_pseudo_label_records():
            self._pending[int(img_id)] = (labels, margins)
        self._gather()
        if self.every_n_train_iters(runner, self.interval):
            self._refresh(runner)

    def _gather(self) -> None:
        """Merge every rank's pending records into the store (collective)."""
        for pending in all_gather_object(self._pending):
            self.store.update(pending)
        self._pending = {}

    def _refresh(self, runner) -> None:
        lam = self.current_lambda(runner)
        factors = self._sampler(runner).update_from_pseudo_labels(
            self.store, lam, score_weighted=self.mode == 'crs')
        self.last_factors = factors
        hub = runner.message_hub
        hub.update_scalar('train/crs/lambda', lam)
        hub.update_scalar('train/crs/num_images', float(len(self.store)))
        hub.update_scalar('train/crs/mean_repeat', float(factors.mean()))
        hub.update_scalar('train/crs/max_repeat', float(factors.max()))
        hub.update_scalar('train/crs/repeated_images', float((factors > 1).sum()))

    # ------------------------------------------------------------ checkpointing
    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        ids = sorted(self.store)
        lengths = [len(self.store[i][0]) for i in ids]
        labels = [np.asarray(self.store[i][0], np.int64) for i in ids]
        margins = [np.asarray(self.store[i][1], np.float32) for i in ids]
        checkpoint[_CKPT_KEY] = dict(
            img_ids=torch.tensor(ids, dtype=torch.long),
            lengths=torch.tensor(lengths, dtype=torch.long),
            labels=torch.from_numpy(np.concatenate(labels) if labels else np.zeros(0, np.int64)),
            margins=torch.from_numpy(
                np.concatenate(margins) if margins else np.zeros(0, np.float32)),
            sampler=self._sampler(runner).state_dict())

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get(_CKPT_KEY)
        if state is None:
            return
        bounds = np.cumsum([0] + state['lengths'].tolist())
        labels, margins = state['labels'].numpy(), state['margins'].numpy()
        self.store = {
            int(img_id): (labels[bounds[k]:bounds[k + 1]], margins[bounds[k]:bounds[k + 1]])
            for k, img_id in enumerate(state['img_ids'].tolist())
        }
        self._pending = {}
        self._sampler_state = state.get('sampler')
