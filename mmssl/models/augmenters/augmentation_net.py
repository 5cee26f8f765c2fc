"""The augmentation network G of adversarial data augmentation (seed 001, Fig. 2 right).

An encoder over the pose network's detached bridge features: one residual (bottleneck) block
per resolution maps each feature to ``channels``; features are fused from fine to coarse
(max-pool the running map to the next resolution, add, one more residual block) down to the
coarsest bridge resolution (4 x 4 for a 256 input hourglass). Two outputs:

* ASR: global average pool and two linear heads, the logits of the ``m`` scale and ``n``
  rotation bins;
* AHO: a 1 x 1 convolution on the ``gh x gw`` map (average-pooled to the grid when the
  coarsest feature is larger), the logits of the occlusion cells.
"""
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmpose.models.backbones.resnet import Bottleneck
from mmpose.registry import MODELS
from mmpose.utils.typing import OptConfigType

HEADS = ('asr', 'aho')


def _residual(in_channels: int, out_channels: int, norm_cfg: dict) -> Bottleneck:
    """mmpose's bottleneck with the paper's halving 1x1 convs (expansion 2) and a projection
    shortcut when the widths differ."""
    downsample = None
    if in_channels != out_channels:
        downsample = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            build_norm_layer(norm_cfg, out_channels)[1])
    return Bottleneck(in_channels, out_channels, expansion=2, downsample=downsample,
                      norm_cfg=norm_cfg)


@MODELS.register_module()
class AdversarialAugmentationNet(BaseModule):
    """G: bridge features -> logits of scale bins, rotation bins and occlusion cells.

    Args:
        in_channels: channels of the bridge features, ordered from the finest to the
            coarsest resolution (:class:`AdversarialPoseEstimator` fills it in).
        channels: width of G (the release: 256).
        num_scale_bins: ``m`` (paper: 7).
        num_rotation_bins: ``n`` (paper: 9).
        grid: ``(gw, gh)`` occlusion grid (paper: 4 x 4).
        heads: which outputs to build, a subset of ``('asr', 'aho')``.
        norm_cfg: normalisation of the residual blocks.
    """

    def __init__(self, in_channels: Sequence[int], *, channels: int = 256,
                 num_scale_bins: int = 7, num_rotation_bins: int = 9,
                 grid: Tuple[int, int] = (4, 4), heads: Sequence[str] = HEADS,
                 norm_cfg: dict = dict(type='BN'), init_cfg: OptConfigType = None):
        super().__init__(init_cfg=init_cfg)
        unknown = set(heads) - set(HEADS)
        if unknown or not heads:
            raise ValueError(f'heads must be a non-empty subset of {HEADS}, got {heads}')
        if not in_channels:
            raise ValueError('G needs at least one bridge feature (in_channels is empty)')
        if channels % 2:
            raise ValueError(f'channels must be even (bottleneck halves it), got {channels}')
        self.in_channels = list(in_channels)
        self.grid = tuple(grid)
        self.heads = tuple(heads)
        self.num_scale_bins, self.num_rotation_bins = num_scale_bins, num_rotation_bins
        self.inputs = nn.ModuleList(_residual(c, channels, norm_cfg) for c in in_channels)
        self.merges = nn.ModuleList(
            _residual(channels, channels, norm_cfg) for _ in self.in_channels[1:])
        if 'asr' in self.heads:
            self.fc_scale = nn.Linear(channels, num_scale_bins)
            self.fc_rotation = nn.Linear(channels, num_rotation_bins)
        if 'aho' in self.heads:
            self.occlusion = nn.Conv2d(channels, 1, 1)

    def forward(self, feats: Sequence[torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Args:
            feats: bridge features, finest first (as ``in_channels``).

        Returns:
            dict with ``scale`` ``[B, m]`` and ``rotation`` ``[B, n]`` logits (ASR) and
            ``occlusion`` ``[B, gw * gh]`` logits in row-major cell order (AHO).
        """
        if len(feats) != len(self.inputs):
            raise ValueError(f'G was built for {len(self.inputs)} bridge features, got '
                             f'{len(feats)}')
        x = self.inputs[0](feats[0])
        for block, merge, feat in zip(self.inputs[1:], self.merges, feats[1:]):
            x = F.adaptive_max_pool2d(x, feat.shape[-2:]) + block(feat)
            x = merge(x)
        out = {}
        if 'asr' in self.heads:
            pooled = x.mean((2, 3))
            out['scale'] = self.fc_scale(pooled)
            out['rotation'] = self.fc_rotation(pooled)
        if 'aho' in self.heads:
            gw, gh = self.grid
            if x.shape[-2:] != (gh, gw):
                x = F.adaptive_avg_pool2d(x, (gh, gw))
            out['occlusion'] = self.occlusion(x).flatten(1)
        return out

    def head_parameters(self, head: str) -> List[nn.Parameter]:
        """Parameters used only by one output (frozen when that output is not trained)."""
        if head == 'asr':
            return list(self.fc_scale.parameters()) + list(self.fc_rotation.parameters())
        if head == 'aho':
            return list(self.occlusion.parameters())
        raise ValueError(f'unknown head {head!r}')


def build_augmentation_net(cfg: dict, in_channels: Sequence[int],
                           num_bins: Tuple[int, int], grid: Tuple[int, int]
                           ) -> AdversarialAugmentationNet:
    """Build G from a (partial) config, filling in what the wrapper knows."""
    cfg = dict(cfg)
    cfg.setdefault('type', 'AdversarialAugmentationNet')
    given = cfg.get('in_channels')
    if given is not None and list(given) != list(in_channels):
        raise ValueError(f'augmenter.in_channels={list(given)} but the bridge features have '
                         f'{list(in_channels)} channels (finest first); leave it unset')
    cfg['in_channels'] = list(in_channels)
    for key, value in (('num_scale_bins', num_bins[0]), ('num_rotation_bins', num_bins[1]),
                       ('grid', tuple(grid))):
        if key in cfg:
            given_value = tuple(cfg[key]) if key == 'grid' else cfg[key]
            if given_value != value:
                raise ValueError(f'augmenter.{key}={cfg[key]} disagrees with the wrapper '
                                 f'({value}); set it on AdversarialPoseEstimator only')
        cfg[key] = value
    return MODELS.build(cfg)


__all__ = ['AdversarialAugmentationNet', 'build_augmentation_net']
