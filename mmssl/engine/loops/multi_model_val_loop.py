"""Validate/test every prediction mode of a multi-network model in one run.

PoseDual is evaluated on each network and on their heatmap ensemble (seed 000 reports all
three). These loops run the data once: each batch goes through both networks once
(``model.predict_modes_at_once``), each mode's predictions feed a copy of the evaluator, and
the metrics are reported prefixed with the mode (``net1/coco/AP``, ``ensemble/coco/AP``, ...),
so ``save_best`` can name any of them. The main mode's metrics are also reported under their
plain names.
"""
import copy
from typing import Dict, Optional, Sequence

import torch
from mmengine.model import is_model_wrapper
from mmengine.registry import LOOPS
from mmengine.runner import TestLoop, ValLoop
from mmengine.runner.amp import autocast


class _MultiModelMixin:
    """Shared by the val and test loops; ``stage`` is ``'val'`` or ``'test'``."""

    stage = 'val'

    def _setup_modes(self, modes: Optional[Sequence[str]], main_mode: Optional[str]) -> None:
        model = self._model()
        self.modes = list(modes or model.predict_modes)
        self.main_mode = main_mode or model.predict_on
        if self.main_mode not in self.modes:
            raise ValueError(f'main_mode {self.main_mode!r} is not in modes {self.modes}')
        if not hasattr(model, 'predict_modes_at_once'):
            raise TypeError(f'{type(self).__name__} needs a model with predict_modes_at_once '
                            f'(e.g. PoseDual); got {type(model).__name__}')
        # one evaluator per mode (the built one, with its dataset_meta, copied)
        self.mode_evaluators = {m: copy.deepcopy(self.evaluator) for m in self.modes}

    def _model(self):
        model = self.runner.model
        return model.module if is_model_wrapper(model) else model

    def run(self) -> Dict[str, float]:
        self.runner.call_hook(f'before_{self.stage}')
        self.runner.call_hook(f'before_{self.stage}_epoch')
        self.runner.model.eval()
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(idx, data_batch)
        metrics: Dict[str, float] = {}
        for mode in self.modes:
            mode_metrics = self.mode_evaluators[mode].evaluate(len(self.dataloader.dataset))
            metrics.update({f'{mode}/{k}': v for k, v in mode_metrics.items()})
            if mode == self.main_mode:
                metrics.update(mode_metrics)
        self.runner.call_hook(f'after_{self.stage}_epoch', metrics=metrics)
        self.runner.call_hook(f'after_{self.stage}')
        return metrics

    @torch.no_grad()
    def run_iter(self, idx: int, data_batch: Sequence[dict]) -> None:
        self.runner.call_hook(f'before_{self.stage}_iter', batch_idx=idx,
                              data_batch=data_batch)
        model = self._model()
        with autocast(enabled=self.fp16):
            data = model.data_preprocessor(data_batch, False)
            by_mode = model.predict_modes_at_once(data['inputs'], data['data_samples'],
                                                  self.modes)
        for mode in self.modes:
            self.mode_evaluators[mode].process(data_samples=by_mode[mode],
                                               data_batch=data_batch)
        self.runner.call_hook(f'after_{self.stage}_iter', batch_idx=idx,
                              data_batch=data_batch, outputs=by_mode[self.main_mode])


@LOOPS.register_module()
class MultiModelValLoop(_MultiModelMixin, ValLoop):
    """``ValLoop`` over ``modes`` (default: the model's ``predict_modes``).

    Args:
        modes: prediction modes to evaluate, e.g. ``['net1', 'net2', 'ensemble']``.
        main_mode: the mode whose metrics are also reported unprefixed (default: the model's
            ``predict_on`` at build time).
        **kwargs: as mmengine's ``ValLoop``.
    """

    stage = 'val'

    def __init__(self, runner, dataloader, evaluator, modes: Optional[Sequence[str]] = None,
                 main_mode: Optional[str] = None, **kwargs) -> None:
        super().__init__(runner, dataloader, evaluator, **kwargs)
        self._setup_modes(modes, main_mode)


@LOOPS.register_module()
class MultiModelTestLoop(_MultiModelMixin, TestLoop):
    """``TestLoop`` over ``modes``; arguments as :class:`MultiModelValLoop`."""

    stage = 'test'

    def __init__(self, runner, dataloader, evaluator, modes: Optional[Sequence[str]] = None,
                 main_mode: Optional[str] = None, **kwargs) -> None:
        super().__init__(runner, dataloader, evaluator, **kwargs)
        self._setup_modes(modes, main_mode)
