"""Validate every prediction mode of a multi-network model in one validation run.

PoseDual is evaluated on each network and on their heatmap ensemble (seed 000 reports all
three). The loop runs mmengine's ``ValLoop`` once per mode of ``model.predict_modes``,
switching ``model.predict_on``, and reports the metrics prefixed with the mode
(``net1/coco/AP``, ``ensemble/coco/AP``, ...), so ``save_best`` can name any of them. The
default mode's metrics are also reported under their plain names.
"""
from typing import Dict, Optional, Sequence

from mmengine.model import is_model_wrapper
from mmengine.registry import LOOPS
from mmengine.runner import ValLoop


@LOOPS.register_module()
class MultiModelValLoop(ValLoop):
    """``ValLoop`` over ``modes`` (default: the model's ``predict_modes``).

    Args:
        modes: prediction modes to evaluate, e.g. ``['net1', 'net2', 'ensemble']``.
        main_mode: the mode whose metrics are also reported unprefixed (default: the model's
            ``predict_on`` at build time).
        **kwargs: as mmengine's ``ValLoop``.
    """

    def __init__(self, runner, dataloader, evaluator, modes: Optional[Sequence[str]] = None,
                 main_mode: Optional[str] = None, **kwargs) -> None:
        super().__init__(runner, dataloader, evaluator, **kwargs)
        model = self._model()
        self.modes = list(modes or model.predict_modes)
        self.main_mode = main_mode or model.predict_on
        if self.main_mode not in self.modes:
            raise ValueError(f'main_mode {self.main_mode!r} is not in modes {self.modes}')

    def _model(self):
        model = self.runner.model
        return model.module if is_model_wrapper(model) else model

    def run(self) -> Dict[str, float]:
        self.runner.call_hook('before_val')
        self.runner.call_hook('before_val_epoch')
        self.runner.model.eval()
        model = self._model()
        original = model.predict_on
        metrics: Dict[str, float] = {}
        try:
            for mode in self.modes:
                model.predict_on = mode
                self.val_loss.clear()
                for idx, data_batch in enumerate(self.dataloader):
                    self.run_iter(idx, data_batch)
                mode_metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
                metrics.update({f'{mode}/{k}': v for k, v in mode_metrics.items()})
                if mode == self.main_mode:
                    metrics.update(mode_metrics)
        finally:
            model.predict_on = original
        self.runner.call_hook('after_val_epoch', metrics=metrics)
        self.runner.call_hook('after_val')
        return metrics
