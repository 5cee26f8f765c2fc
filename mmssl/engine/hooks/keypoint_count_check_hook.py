"""Fail fast when a dataset's keypoint count does not match the pose model's head.

Without this check a mismatch (e.g. a 68-landmark 300W file under a 17-keypoint COCO head,
or a 16-joint unlabeled set mixed with a 17-keypoint labeled one) surfaces as a broadcasting
error deep inside a loss, or worse, trains silently on wrong targets.
"""
from typing import Iterator, List, Tuple

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpose.models.heads.base_head import BaseHead
from mmpose.registry import HOOKS


def leaf_datasets(dataset) -> Iterator:
    """The datasets inside ConcatDataset / RepeatDataset wrappers. An mmpose
    ``CombinedDataset`` is a leaf: its sub-datasets' keypoints are converted to the combined
    metainfo (``KeypointConverter``), which is what the model sees."""
    from mmpose.datasets import CombinedDataset
    if isinstance(dataset, CombinedDataset):
        yield dataset
        return
    children = getattr(dataset, 'datasets', None)
    if children is None and hasattr(dataset, 'dataset'):
        children = [dataset.dataset]
    if children is None:
        yield dataset
        return
    for child in children:
        yield from leaf_datasets(child)


def head_keypoint_counts(model) -> List[Tuple[str, int]]:
    """(module name, keypoint count) of every mmpose head in ``model``."""
    if is_model_wrapper(model):
        model = model.module
    counts = []
    for name, module in model.named_modules():
        if isinstance(module, BaseHead):
            num = getattr(module, 'out_channels', None) or getattr(module, 'num_joints', None)
            if isinstance(num, int):
                counts.append((name, num))
    return counts


def check_keypoint_counts(model, dataset, split: str) -> None:
    """Raise ``ValueError`` naming the dataset file when its keypoint count differs from a
    head's."""
    heads = head_keypoint_counts(model)
    for ds in leaf_datasets(dataset):
        meta = getattr(ds, 'metainfo', None) or {}
        num = meta.get('num_keypoints')
        if num is None:
            continue
        for name, head_num in heads:
            if head_num != num:
                raise ValueError(
                    f'{split} dataset {type(ds).__name__} ({getattr(ds, "ann_file", "?")}) '
                    f'has {num} keypoints but the model head "{name}" predicts {head_num}: '
                    'use the metainfo of the model\'s keypoint set or change the head\'s '
                    'out_channels')


@HOOKS.register_module()
class KeypointCountCheckHook(Hook):
    """Check every train/val/test dataset against the model's heads before running."""

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        check_keypoint_counts(runner.model, runner.train_dataloader.dataset, 'train')

    def before_val(self, runner) -> None:
        check_keypoint_counts(runner.model, runner.val_dataloader.dataset, 'val')

    def before_test(self, runner) -> None:
        check_keypoint_counts(runner.model, runner.test_dataloader.dataset, 'test')
