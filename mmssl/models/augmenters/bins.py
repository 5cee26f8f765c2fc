"""Augmentation bins: each bin of a range is a small bounded Gaussian (seed 001, Sec. 4.1).

The augmentation network predicts a distribution over bins; a bin is drawn per image and a
value is drawn from the bin's Gaussian, clipped to one sigma around its mean (the authors'
release: ``clip(mu + N(0, sigma), mu - sigma, mu + sigma)``).

Conventions used by :mod:`.asr_warp`: a *scale* value is the factor applied to the person box
(mmpose's ``RandomBBoxTransform`` semantics: 1.5 = a 1.5x larger box = the person appears
smaller), given in log2 space by the bins (``2 ** x``); a *rotation* value is in degrees,
counter-clockwise on screen.
"""
from typing import Optional, Sequence, Union

import torch


class AugmentationBins:
    """A set of ``num`` bounded-Gaussian bins.

    Args:
        means: bin centres (log2 scale factors when ``log2`` is true, else plain values).
        sigma: the Gaussian sigma and the clipping half-width of every bin (0 = bin means).
        log2: whether drawn values are exponents of 2 (scale bins).
    """

    def __init__(self, means: Sequence[float], sigma: float, *, log2: bool = False) -> None:
        if len(means) < 2:
            raise ValueError(f'need at least 2 bins, got means={list(means)}')
        if sigma < 0:
            raise ValueError(f'sigma must be >= 0, got {sigma}')
        self.means = torch.tensor([float(m) for m in means])
        self.sigma = float(sigma)
        self.log2 = log2

    @classmethod
    def build(cls, cfg: Union[dict, 'AugmentationBins']) -> 'AugmentationBins':
        """From ``dict(num, low, high, sigma, log2)`` (evenly spaced means) or
        ``dict(means, sigma, log2)``."""
        if isinstance(cfg, AugmentationBins):
            return cfg
        cfg = dict(cfg)
        unknown = set(cfg) - {'num', 'low', 'high', 'means', 'sigma', 'log2'}
        if unknown:
            raise KeyError(f'unknown bin settings {sorted(unknown)}; use num/low/high or '
                           'means, and sigma, log2')
        if 'means' in cfg:
            means = cfg['means']
        else:
            try:
                means = torch.linspace(cfg['low'], cfg['high'], cfg['num']).tolist()
            except KeyError as err:
                raise KeyError(f'bins need `means` or `num`, `low` and `high`; missing {err}')
        return cls(means, cfg.get('sigma', 0.), log2=cfg.get('log2', False))

    @property
    def num_bins(self) -> int:
        return len(self.means)

    def values(self, indices: torch.Tensor,
               generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Draw one value from the bounded Gaussian of each bin in ``indices`` (any shape).

        Returns the value in its natural unit (``2 ** x`` for log2 bins).
        """
        noise = torch.randn(indices.shape, generator=generator, device=indices.device)
        return self.values_from_noise(indices, noise)

    def values_from_noise(self, indices: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """The value of each bin in ``indices`` for standard-normal draws ``noise`` (same
        shape): ``clip(mu + sigma * noise, mu - sigma, mu + sigma)``, ``2 ** x`` for log2
        bins. The one bin-value rule, shared by the batch-tensor ASR (:meth:`values`) and
        the per-sample pipeline transform (:class:`mmssl.datasets.transforms.BinnedScaleRotation`).
        """
        mu = self.means.to(indices.device)[indices]
        x = mu + (noise.to(mu) * self.sigma).clamp(-self.sigma, self.sigma)
        return torch.exp2(x) if self.log2 else x

    def to_dict(self) -> dict:
        """``dict(means, sigma, log2)``: the settings :meth:`build` reads back."""
        return dict(means=[float(m) for m in self.means.tolist()], sigma=self.sigma,
                    log2=bool(self.log2))

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(means={[round(m, 4) for m in self.means.tolist()]}, '
                f'sigma={self.sigma}, log2={self.log2})')


def sample_random_scale_rotation(batch_size: int, *, scale_sigma: float = 0.25,
                                 scale_range: Sequence[float] = (0.75, 1.25),
                                 rot_sigma: float = 30., rot_range: float = 30.,
                                 rot_prob: float = 1.0, log2_scale: bool = False,
                                 device=None, generator: Optional[torch.Generator] = None
                                 ) -> tuple:
    """The random augmentation tau_r (the reference of Eq. 1 and the random share).

    Box scale factor ~ clip(N(1, scale_sigma), *scale_range) (or, with ``log2_scale``,
    ``2 ** clip(N(0, scale_sigma), log2(scale_range))`` as in the release); rotation ~
    clip(N(0, rot_sigma), +-rot_range) degrees with probability ``rot_prob``, else 0.
    Defaults are the paper's ranges (scaling 0.75-1.25, rotating +-30 degrees, Sec. 5.1).

    Returns:
        (scale, rotation): two ``[B]`` tensors.
    """
    randn = torch.randn(2, batch_size, generator=generator, device=device)
    lo, hi = scale_range
    if log2_scale:
        lo_t, hi_t = torch.log2(torch.tensor(float(lo))), torch.log2(torch.tensor(float(hi)))
        scale = torch.exp2((scale_sigma * randn[0]).clamp(float(lo_t), float(hi_t)))
    else:
        scale = (1 + scale_sigma * randn[0]).clamp(lo, hi)
    rot = (rot_sigma * randn[1]).clamp(-rot_range, rot_range)
    keep = torch.rand(batch_size, generator=generator, device=device) < rot_prob
    return scale, torch.where(keep, rot, torch.zeros_like(rot))


# Paper defaults (Sec. 4.1: m = 7 scale bins, n = 9 rotation bins). The paper does not state
# the ranges; the release's ranges are used (scale 2^[-0.6, 0.6], rotation [-60, 60] degrees)
# with n = 9 rotation bins spanning it (15-degree steps, sigma 3.75 = a quarter step as in the
# release's 20/5 ratio).
PAPER_SCALE_BINS = dict(num=7, low=-0.6, high=0.6, sigma=0.05, log2=True)
PAPER_ROTATION_BINS = dict(num=9, low=-60., high=60., sigma=3.75)
# The authors' release: 7 scale bins (-0.6..0.6 step 0.2, log2, sigma 0.05) and 7 rotation
# bins (-60..60 step 20 degrees, sigma 5).
RELEASE_SCALE_BINS = dict(num=7, low=-0.6, high=0.6, sigma=0.05, log2=True)
RELEASE_ROTATION_BINS = dict(num=7, low=-60., high=60., sigma=5.)
# Random augmentation of the release: 2^clip(N(0, .25), +-.5) box scale, rotation
# clip(N(0, 30), +-60) with probability 0.4.
RELEASE_RANDOM_AUG = dict(scale_sigma=0.25, scale_range=(2 ** -0.5, 2 ** 0.5), log2_scale=True,
                          rot_sigma=30., rot_range=60., rot_prob=0.4)

__all__ = ['AugmentationBins', 'sample_random_scale_rotation', 'PAPER_SCALE_BINS',
           'PAPER_ROTATION_BINS', 'RELEASE_SCALE_BINS', 'RELEASE_ROTATION_BINS',
           'RELEASE_RANDOM_AUG']
