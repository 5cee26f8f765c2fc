"""Time the loop of a stage so the self-training runner can report its own overhead."""
import time
from typing import Optional

from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class StageTimerHook(Hook):
    """Record when the train or test loop of a run starts and ends (wall clock).

    ``loop_s`` is the time mmengine spends in ``train_loop.run()`` / ``test_loop.run()``
    (data loading, forward/backward, evaluation); the runner's overhead is the rest.
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self.start: Optional[float] = None
        self.end: Optional[float] = None

    def before_train(self, runner) -> None:
        self.start = time.perf_counter()

    def after_train(self, runner) -> None:
        self.end = time.perf_counter()

    def before_test(self, runner) -> None:
        self.start = time.perf_counter()

    def after_test(self, runner) -> None:
        self.end = time.perf_counter()

    @property
    def loop_s(self) -> float:
        if self.start is None or self.end is None:
            return 0.0
        return self.end - self.start
