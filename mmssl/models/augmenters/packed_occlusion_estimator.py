"""A top-down estimator that applies AHO cell masks packed with the samples (seed 001).

:class:`~mmssl.datasets.transforms.BinnedOcclusionCells` draws the occluded cells of each
sample in the data pipeline and packs a ``[gh, gw]`` mask in the sample's metainfo
(``occlusion_mask``). This subclass of mmpose's ``TopdownPoseEstimator`` multiplies those
masks, upsampled (nearest) to every resolution, into its bridge features during the training
forward pass, through the same forward hooks (:class:`~.bridge.BridgeFeatures`) the
batch-tensor AHO of :class:`~.adversarial_estimator.AdversarialPoseEstimator` uses: the
hierarchical occlusion of the seed, with the distribution fixed by the pipeline (uniform or
exported from a trained G). Prediction is never masked. Samples without a packed mask get an
all-ones mask.
"""
from typing import List, Optional, Tuple, Union

import torch
from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.registry import MODELS

from .bridge import BridgeFeatures, auto_bridge_modules


@MODELS.register_module()
class PackedOcclusionEstimator(TopdownPoseEstimator):
    """``TopdownPoseEstimator`` + packed AHO masks on its bridge features in ``loss``.

    Args:
        bridge: ``'auto'`` (hourglass skip branches of every stack, or every residual stage
            of a ResNet-style backbone: :func:`~.bridge.auto_bridge_modules`) or
            ``dict(modules=[...])`` with names of this model's ``named_modules()``.
        grid: ``(gw, gh)`` of the packed masks (paper 4 x 4).
        mask_key: the metainfo key the pipeline packed the mask under.
        **kwargs: ``TopdownPoseEstimator`` arguments (backbone, neck, head, ...).
    """

    def __init__(self, *, bridge: Union[str, dict] = 'auto', grid: Tuple[int, int] = (4, 4),
                 mask_key: str = 'occlusion_mask', **kwargs) -> None:
        super().__init__(**kwargs)
        if bridge == 'auto':
            modules, _ = auto_bridge_modules(self)
        elif isinstance(bridge, dict) and 'modules' in bridge:
            modules = list(bridge['modules'])
        else:
            raise ValueError(f"PackedOcclusionEstimator: bridge must be 'auto' or "
                             f'dict(modules=[...]), got {bridge!r}')
        self.grid, self.mask_key = tuple(grid), mask_key
        self.bridge = BridgeFeatures(self, modules, modules[:1], self.grid)

    def packed_masks(self, data_samples: list, like: torch.Tensor) -> Optional[torch.Tensor]:
        """``[B, gh, gw]`` masks of the batch, ``None`` when no sample carries one."""
        masks: List[Optional[torch.Tensor]] = [
            d.metainfo.get(self.mask_key) for d in data_samples]
        if all(m is None for m in masks):
            return None
        gw, gh = self.grid
        out = like.new_ones(len(masks), gh, gw)
        for i, mask in enumerate(masks):
            if mask is None:
                continue
            mask = torch.as_tensor(mask, dtype=like.dtype, device=like.device)
            if tuple(mask.shape) != (gh, gw):
                raise ValueError(f'sample {i}: packed {self.mask_key} has shape '
                                 f'{tuple(mask.shape)}, the model expects the {gw}x{gh} grid '
                                 f'({gh}, {gw}); set grid= to the transform\'s grid')
            out[i] = mask
        return out

    def loss(self, inputs: torch.Tensor, data_samples: list) -> dict:
        with self.bridge.masking(self.packed_masks(data_samples, inputs)):
            return super().loss(inputs, data_samples)
