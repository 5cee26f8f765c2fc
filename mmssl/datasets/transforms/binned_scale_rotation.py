"""ASR as a pipeline transform: a scale bin and a rotation bin drawn from a distribution,
then the bounded Gaussian value within each bin (seed 001, Sec. 4.1).

The batch-tensor ASR of :class:`~mmssl.models.augmenters.AdversarialPoseEstimator` draws the
bins from G's prediction per image on the accelerator; this transform makes the same
augmentation for any mmpose pipeline, with the distribution given: uniform (the random
baseline) or exported from a trained G (:mod:`.augmentation_distribution`). Both turn a
(bin, standard-normal draw) pair into a value with the one rule
:meth:`AugmentationBins.values_from_noise`, and both scale the person box by the value and
rotate the content counter-clockwise on screen, so ``TopdownAffine`` after this transform
makes the crop that :func:`~mmssl.models.augmenters.scale_rotation_matrices` makes from the
standard crop.
"""
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmpose.registry import TRANSFORMS

from .augmentation_distribution import check_probs, load_distribution, uniform_block


def _bins_and_probs(name: str, bins_cfg: Optional[dict], probs: Optional[Sequence[float]],
                    file_block: Optional[dict], default: dict, where: str):
    from mmssl.models.augmenters.bins import AugmentationBins
    if file_block is not None:
        if bins_cfg is not None or probs is not None:
            raise ValueError(f'{where}: {name} bins/probs come from the distribution file; '
                             f'do not also pass {name}_bins or {name}_probs')
        bins = AugmentationBins.build(
            {k: file_block[k] for k in ('means', 'sigma', 'log2') if k in file_block})
        return bins, np.asarray(file_block['probs'])
    bins = AugmentationBins.build(default if bins_cfg is None else bins_cfg)
    p = uniform_block(bins.num_bins) if probs is None else check_probs(
        probs, bins.num_bins, f'{where}: {name}_probs')
    return bins, p


@TRANSFORMS.register_module()
class BinnedScaleRotation(BaseTransform):
    """Scale the person box and rotate the crop by values drawn from bins.

    Place it where ``RandomBBoxTransform`` would be: after ``GetBBoxCenterScale`` (and
    ``RandomFlip``), before ``TopdownAffine``. It multiplies ``bbox_scale`` by the scale value
    (2 = a twice larger box = the person appears half as large, mmpose's semantics) and sets
    ``bbox_rotation`` (degrees; the content turns counter-clockwise on screen for a positive
    value, the convention of the batch-tensor ASR).

    Args:
        distribution: path of an augmentation-distribution file (its ``scale`` and
            ``rotation`` blocks), or ``None`` for ``scale_probs`` / ``rotation_probs``
            (default uniform: the random baseline).
        scale_bins, rotation_bins: :class:`AugmentationBins` settings when no file is given
            (default: the paper's 7 scale and 9 rotation bins).
        scale_probs, rotation_probs: bin probabilities when no file is given.
        prob: probability of augmenting a sample (else the standard crop). Defaults to 1.
    """

    def __init__(self, distribution: Optional[str] = None, *,
                 scale_bins: Optional[dict] = None, rotation_bins: Optional[dict] = None,
                 scale_probs: Optional[Sequence[float]] = None,
                 rotation_probs: Optional[Sequence[float]] = None, prob: float = 1.) -> None:
        super().__init__()
        from mmssl.models.augmenters.bins import PAPER_ROTATION_BINS, PAPER_SCALE_BINS
        if not 0 <= prob <= 1:
            raise ValueError(f'BinnedScaleRotation: prob must be in [0, 1], got {prob}')
        where = f'BinnedScaleRotation({distribution or "no file"})'
        data = load_distribution(distribution) if distribution else {}
        if distribution and not ('scale' in data or 'rotation' in data):
            raise ValueError(f'{distribution}: no "scale" or "rotation" block for ASR')
        self.scale_bins, self.scale_probs = _bins_and_probs(
            'scale', scale_bins, scale_probs, data.get('scale'), PAPER_SCALE_BINS, where)
        self.rotation_bins, self.rotation_probs = _bins_and_probs(
            'rotation', rotation_bins, rotation_probs, data.get('rotation'),
            PAPER_ROTATION_BINS, where)
        self.distribution, self.prob = distribution, float(prob)

    @cache_randomness
    def _draw(self) -> Tuple[bool, int, float, int, float]:
        """(apply, scale bin, scale noise, rotation bin, rotation noise)."""
        apply = bool(np.random.rand() < self.prob)
        s_idx = int(np.random.choice(self.scale_bins.num_bins, p=self.scale_probs))
        r_idx = int(np.random.choice(self.rotation_bins.num_bins, p=self.rotation_probs))
        s_noise, r_noise = np.random.randn(2)
        return apply, s_idx, float(s_noise), r_idx, float(r_noise)

    def values(self, s_idx: int, s_noise: float, r_idx: int,
               r_noise: float) -> Tuple[float, float]:
        """(box scale factor, rotation in degrees) of the given draws (the shared rule)."""
        import torch
        scale = self.scale_bins.values_from_noise(torch.tensor([s_idx]),
                                                  torch.tensor([s_noise]))
        rot = self.rotation_bins.values_from_noise(torch.tensor([r_idx]),
                                                   torch.tensor([r_noise]))
        return float(scale[0]), float(rot[0])

    def apply_values(self, results: Dict, scale: float, rot: float) -> Dict:
        """Scale the box by ``scale`` and rotate by ``rot`` degrees (counter-clockwise)."""
        if 'bbox_scale' not in results:
            raise KeyError('BinnedScaleRotation needs "bbox_scale": put it after '
                           'GetBBoxCenterScale in the pipeline')
        n = results['bbox_scale'].shape[0]
        results['bbox_scale'] = results['bbox_scale'] * np.float32(scale)
        # mmpose's TopdownAffine turns the content counter-clockwise for a positive
        # bbox_rotation, as the batch-tensor ASR (tested to agree)
        results['bbox_rotation'] = np.full((n, ), rot, dtype=np.float32)
        results['asr_values'] = np.array([scale, rot], dtype=np.float32)
        return results

    def transform(self, results: Dict) -> Union[Dict, None]:
        apply, s_idx, s_noise, r_idx, r_noise = self._draw()
        if not apply:
            return results
        scale, rot = self.values(s_idx, s_noise, r_idx, r_noise)
        results['asr_bins'] = np.array([s_idx, r_idx], dtype=np.int64)
        return self.apply_values(results, scale, rot)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(distribution={self.distribution!r}, '
                f'scale_bins={self.scale_bins}, rotation_bins={self.rotation_bins}, '
                f'prob={self.prob})')
