"""Validate/test every prediction mode of a multi-network model in one run.

PoseDual is evaluated on each network and on their heatmap ensemble (seed 000 reports all
three). These loops run mmengine's evaluation once per mode of ``model.predict_modes``,
switching ``model.predict_on``, and report the metrics prefixed with the mode
(``net1/coco/AP``, ``ensemble/coco/AP``, ...), so ``save_best`` can name any of them. The
main mode's metrics are also reported under their plain names.
"""
from typing import Dict, Optional, Sequence

from mmengine.model import is_model_wrapper
from mmengine.registry import LOOPS
from mmengine.runner import TestLoop, ValLoop


class _MultiModelMixin:
    """Shared by the val and test loops; ``stage`` is ``'val'`` or ``'test'``."""

    stage = 'val'

    def _setup_modes(self, modes: Optional[Sequence[str]], main_mode: Optional[str]) -> None:
        model = self._model()
        self.modes = list(modes or model.predict_modes)
        self.main_mode = main_mode or model.predict_on
        if self.main_mode not in self.modes:
            raise ValueError(f'main_mode {self.main_mode!r} is not in modes {self.modes}')

    def _model(self):
        model = self.runner.model
        return model.module if is_model_wrapper(model) else model

    def run(self) -> Dict[str, float]:
        self.runner.call_hook(f'before_{self.stage}')
        self.runner.call_hook(f'before_{self.stage}_epoch')
        self.runner.model.eval()
        model = self._model()
        original = model.predict_on
        metrics: Dict[str, float] = {}
        try:
            for mode in self.modes:
                model.predict_on = mode
                if hasattr(self, 'val_loss'):
                    self.val_loss.clear()
                if hasattr(self, 'test_loss'):
                    self.test_loss.clear()
                for idx, data_batch in enumerate(self.dataloader):
                    self.run_iter(idx, data_batch)
                mode_metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
                metrics.update({f'{mode}/{k}': v for k, v in mode_metrics.items()})
                if mode == self.main_mode:
                    metrics.update(mode_metrics)
        finally:
            model.predict_on = original
        self.runner.call_hook(f'after_{self.stage}_epoch', metrics=metrics)
        self.runner.call_hook(f'after_{self.stage}')
        return metrics


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
