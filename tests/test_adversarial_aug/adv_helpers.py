"""Shared builders for the adversarial-augmentation tests: tiny real mmpose estimators and
configs of configs/adversarial_aug/synthetic pointed at a small synthetic set (CPU)."""
from pathlib import Path

import numpy as np
import torch
from mmengine.config import Config
from mmengine.structures import InstanceData, PixelData
from mmpose.codecs import MSRAHeatmap
from mmpose.structures import PoseDataSample

REPO_ROOT = Path(__file__).resolve().parents[2]
SYNTHETIC = 'adversarial_aug/synthetic/adv-aug_res18-w16_stage{}_synthetic-body-64x64.py'
BRIDGE = dict(modules=['backbone.layer1', 'backbone.layer2', 'backbone.layer3'])


def tiny_codec(size: int = 64, sigma: float = 1.) -> dict:
    return dict(type='MSRAHeatmap', input_size=(size, size), heatmap_size=(size // 4, size // 4),
                sigma=sigma)


def tiny_resnet_estimator(num_keypoints: int = 17, size: int = 64) -> dict:
    """ResNet-18 with 8 base channels, three deconvs: 64x64 input -> 16x16 heatmaps."""
    return dict(
        type='TopdownPoseEstimator',
        data_preprocessor=dict(type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
        backbone=dict(type='ResNet', depth=18, base_channels=8, stem_channels=8, init_cfg=None),
        head=dict(type='HeatmapHead', in_channels=64, out_channels=num_keypoints,
                  deconv_out_channels=(16, 16, 16), deconv_kernel_sizes=(4, 4, 4),
                  loss=dict(type='KeypointMSELoss', use_target_weight=True),
                  decoder=tiny_codec(size)),
        test_cfg=dict(flip_test=False))


def tiny_hourglass_estimator(num_keypoints: int = 5, size: int = 64) -> dict:
    """mmpose HourglassNet (1 stack unless changed), 64x64 input: bridge skips 16, 8, 4 px."""
    return dict(
        type='TopdownPoseEstimator',
        data_preprocessor=dict(type='PoseDataPreprocessor', mean=[0., 0., 0.],
                               std=[1., 1., 1.]),
        backbone=dict(type='HourglassNet', num_stacks=1, downsample_times=3,
                      stage_channels=(256, 16, 16, 16), stage_blocks=(1, 1, 1, 1),
                      feat_channel=16),
        head=dict(type='CPMHead', in_channels=16, out_channels=num_keypoints, num_stages=1,
                  deconv_out_channels=None,
                  loss=dict(type='KeypointMSELoss', use_target_weight=True),
                  decoder=tiny_codec(size, sigma=2.)))


def fake_samples(keypoints: np.ndarray, size: int = 64, sigma: float = 1.) -> list:
    """Data samples as the train pipeline packs them (targets by mmpose's own codec)."""
    codec = MSRAHeatmap(input_size=(size, size), heatmap_size=(size // 4, size // 4),
                        sigma=sigma)
    samples = []
    for kp in keypoints:
        kp = kp[None].astype(np.float32)
        enc = codec.encode(kp, np.ones(kp.shape[:2], dtype=np.float32))
        d = PoseDataSample()
        d.gt_instances = InstanceData(transformed_keypoints=kp,
                                      keypoints_visible=np.ones(kp.shape[:2]))
        d.gt_fields = PixelData(heatmaps=torch.from_numpy(enc['heatmaps']))
        d.gt_instance_labels = InstanceData(
            keypoint_weights=torch.from_numpy(enc['keypoint_weights']))
        samples.append(d)
    return samples


def synthetic_cfg(stage: str, data_root: Path, work_dir: Path, batch_size: int = 4,
                  iters: int = 2) -> Config:
    """A configs/adversarial_aug/synthetic config, 64x64 tiny ResNet, deterministic data,
    iteration-based, on ``data_root``."""
    cfg = Config.fromfile(str(REPO_ROOT / 'configs' / SYNTHETIC.format(stage)))
    root = str(data_root) + '/'
    codec = tiny_codec(64)
    cfg.model.estimator = tiny_resnet_estimator(17, 64)
    cfg.model.bridge = BRIDGE
    cfg.model.augmenter = dict(channels=8)
    cfg.model.sweep_chunk = 16
    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        loader.num_workers = 0
        loader.persistent_workers = False
        loader.dataset.data_root = root
        for t in loader.dataset.pipeline:
            if t['type'] in ('TopdownAffine', ):
                t['input_size'] = codec['input_size']
            if t['type'] == 'GenerateTarget':
                t['encoder'] = codec
    cfg.train_dataloader.dataset.pipeline = [
        t for t in cfg.train_dataloader.dataset.pipeline if t['type'] != 'RandomFlip']
    cfg.train_dataloader.batch_size = batch_size
    cfg.val_dataloader.batch_size = 4
    cfg.val_evaluator = [dict(type='PCKAccuracy', thr=0.05, norm_item='bbox')]
    cfg.test_evaluator = cfg.val_evaluator
    cfg.load_from = None
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=10**6,
                         val_begin=10**6)
    cfg.log_processor = dict(by_epoch=False)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1, by_epoch=False,
                                        save_best=None)
    cfg.custom_hooks = [dict(type='AdversarialDistributionHook', interval=1, max_samples=2)]
    cfg.work_dir = str(work_dir)
    return cfg
