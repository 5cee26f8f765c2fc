"""RTMPose's stage-2 pipeline switch for one source of a multi-source training dataset.

RTMPose configs switch to a milder training pipeline for their last epochs with mmdet's
``PipelineSwitchHook``, which assigns ``train_dataloader.dataset.pipeline``. Under PoseDual
the training dataset is a ``ConcatDataset`` of the labeled and the unlabeled source: nothing
reads that attribute, and the switch would silently not happen. :class:`SourcePipelineSwitchHook`
switches the pipeline of one source instead (the labeled one by default), and
:func:`refuse_unreachable_pipeline_switch` stops a run that keeps mmdet's hook on such a
dataset (called before training by this hook and by PoseDual's ``CollapseMonitorHook``).
"""
from typing import List

from mmengine.dataset import Compose
from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop
from mmpose.registry import HOOKS


def refuse_unreachable_pipeline_switch(runner) -> None:
    """Raise when mmdet's ``PipelineSwitchHook`` would switch the pipeline of a multi-source
    dataset (which has none of its own)."""
    from mmdet.engine.hooks import PipelineSwitchHook
    dataset = runner.train_dataloader.dataset
    if not hasattr(dataset, 'datasets'):
        return
    for hook in runner.hooks:
        if isinstance(hook, PipelineSwitchHook):
            raise RuntimeError(
                f'mmdet.PipelineSwitchHook (switch_epoch={hook.switch_epoch}) sets '
                f'train_dataloader.dataset.pipeline, but the training dataset is a '
                f'{type(dataset).__name__} of {len(dataset.datasets)} sources (e.g. PoseDual\'s '
                'labeled + unlabeled): the switch would silently do nothing. Replace it in '
                'custom_hooks with dict(type="SourcePipelineSwitchHook", switch_epoch=..., '
                'switch_pipeline=<the stage-2 labeled pipeline, ending like the labeled '
                'pipeline (e.g. PoseMultiBranch)>, source=0)')


@HOOKS.register_module()
class SourcePipelineSwitchHook(Hook):
    """Switch the pipeline of source ``source`` of the training dataset at ``switch_epoch``.

    Args:
        switch_epoch: the first epoch that uses ``switch_pipeline``.
        switch_pipeline: the complete pipeline of that source (for PoseDual's labeled
            source: RTMPose's stage-2 pipeline whose ``PackPoseInputs`` is replaced by the
            ``PoseMultiBranch`` of the labeled pipeline).
        source: index of the source in the training ``ConcatDataset``.
    """

    priority = 'NORMAL'

    def __init__(self, switch_epoch: int, switch_pipeline: List[dict], source: int = 0):
        self.switch_epoch = switch_epoch
        self.switch_pipeline = switch_pipeline
        self.source = source
        self._switched = False
        self._restarting = False

    def before_train(self, runner) -> None:
        refuse_unreachable_pipeline_switch(runner)
        if not isinstance(runner.train_loop, EpochBasedTrainLoop):
            raise RuntimeError(f'SourcePipelineSwitchHook switches at an epoch; the train loop '
                               f'is {type(runner.train_loop).__name__}')
        sources = getattr(runner.train_dataloader.dataset, 'datasets', None)
        if sources is None or not 0 <= self.source < len(sources):
            n = 'no sources' if sources is None else f'{len(sources)} sources'
            raise ValueError(f'SourcePipelineSwitchHook(source={self.source}): the training '
                             f'dataset {type(runner.train_dataloader.dataset).__name__} has '
                             f'{n}; a single dataset switches with mmdet.PipelineSwitchHook')

    def before_train_epoch(self, runner) -> None:
        loader = runner.train_dataloader
        if self._switched or runner.epoch < self.switch_epoch:
            if self._restarting:  # the workers were restarted with the new pipeline
                loader._DataLoader__initialized = True
                self._restarting = False
            return
        dataset = loader.dataset.datasets[self.source]
        runner.logger.info(f'Switch the pipeline of training source {self.source} '
                           f'({type(dataset).__name__}) at epoch {runner.epoch}')
        dataset.pipeline = Compose(self.switch_pipeline)
        if getattr(loader, 'persistent_workers', False):
            # persistent workers hold a copy of the dataset: make the loader restart them
            loader._DataLoader__initialized = False
            loader._iterator = None
            self._restarting = True
        self._switched = True
