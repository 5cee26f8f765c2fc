"""Datasets, samplers and transforms for semi-supervised training (registered on import)."""
from . import (class_rebalancing_sampler, lvis_coco_format,  # noqa: F401
               synthetic_detection, synthetic_lifting_images, synthetic_pose3d, transforms)
from .hand_xray_dataset import HandXrayDataset
from .mixed_ratio_sampler import MixedRatioSampler, num_batches_per_epoch, split_batch
from .unlabeled_image_folder_dataset import UnlabeledImageFolderDataset
from .unlabeled_topdown_dataset import UnlabeledTopDownDataset

__all__ = ['HandXrayDataset', 'MixedRatioSampler', 'UnlabeledImageFolderDataset',
           'UnlabeledTopDownDataset', 'num_batches_per_epoch', 'split_batch']
