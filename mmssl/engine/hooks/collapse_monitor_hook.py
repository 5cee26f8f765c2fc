"""Watch the heatmap response on unlabeled images for the collapse of consistency training.

Seed 000: when consistency training collapses, the *response* (mean over unlabeled images and
joints of each heatmap channel's maximum) of the teacher drifts toward 0. PoseDual/PoseCons
report it per network in their loss dict (``response_net1`` ...). This hook forwards the
smoothed values to every visualizer backend under ``response/<net>`` (their own chart in
TensorBoard/W&B, and ``vis_data/scalars.json`` for ``tools/analysis/plot_response.py``) and
warns once when a network's response falls below ``collapse_ratio`` of its first value.
"""
from typing import Dict, Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmpose.registry import HOOKS

from .source_pipeline_switch_hook import refuse_unreachable_pipeline_switch


@HOOKS.register_module()
class CollapseMonitorHook(Hook):
    """Log ``response_*`` scalars every ``interval`` iterations and flag a collapse.

    Args:
        interval: iterations between two logged points.
        collapse_ratio: warn when response < collapse_ratio * first logged response.
        window: iterations averaged per point.
    """

    priority = 'BELOW_NORMAL'

    def __init__(self, interval: int = 50, collapse_ratio: float = 0.1,
                 window: Optional[int] = None) -> None:
        self.interval, self.collapse_ratio = interval, collapse_ratio
        self.window = window or interval
        self.first: Dict[str, float] = {}
        self.warned = set()

    def before_train(self, runner) -> None:
        # PoseDual's companion hook: a stage-2 switch that cannot reach the labeled source
        # would silently keep the stage-1 pipeline
        refuse_unreachable_pipeline_switch(runner)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if not self.every_n_train_iters(runner, self.interval):
            return
        scalars = runner.message_hub.log_scalars
        points = {}
        for key, buffer in scalars.items():
            if key.startswith('train/response_'):
                net = key[len('train/response_'):]
                points[f'response/{net}'] = float(buffer.mean(self.window))
        if not points:
            return
        runner.visualizer.add_scalars(points, step=runner.iter + 1)
        for name, value in points.items():
            first = self.first.setdefault(name, value)
            if name not in self.warned and value < self.collapse_ratio * first:
                self.warned.add(name)
                print_log(f'{name} fell to {value:.4f} from {first:.4f} at iteration '
                          f'{runner.iter + 1}: consistency training is collapsing', 'current',
                          level=30)

    def state_dict(self) -> dict:
        return dict(first=dict(self.first), warned=sorted(self.warned))

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('hook_states', {})['CollapseMonitorHook'] = self.state_dict()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('hook_states', {}).get('CollapseMonitorHook')
        if state:
            self.first, self.warned = dict(state['first']), set(state['warned'])
