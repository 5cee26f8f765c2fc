"""AHO as a pipeline transform: occluded grid cells drawn from a distribution and packed
with the sample (seed 001, Sec. 4.2).

AHO occludes *features*, not pixels: a ``gw x gh`` cell mask (0 on the drawn cells) is
upsampled (nearest) to every resolution of the pose network's bridge features and multiplied
into them. A data pipeline cannot reach features, so this transform only draws the cells and
stores the mask in ``results['occlusion_mask']`` (``[gh, gw]`` float32); pack it with
``PackPoseInputs(meta_keys=(..., 'occlusion_mask'))`` and train with
:class:`~mmssl.models.augmenters.PackedOcclusionEstimator`, which applies the packed masks
to the bridge features through the same hooks the batch-tensor AHO uses. The draw (cells
without replacement from the distribution, 1 or 2 of them in the paper, exactly 2 in the
release) goes through the one rule :func:`~mmssl.models.augmenters.cells_from_order` and
:func:`~mmssl.models.augmenters.occlusion_mask` shared with the batch-tensor AHO.
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmpose.registry import TRANSFORMS

from .augmentation_distribution import check_probs, load_distribution, uniform_block


@TRANSFORMS.register_module()
class BinnedOcclusionCells(BaseTransform):
    """Draw occluded cells of a ``gw x gh`` grid and pack the cell mask with the sample.

    Args:
        distribution: path of an augmentation-distribution file (its ``occlusion`` block), or
            ``None`` for ``probs`` (default uniform: the random reference of Alg. 2).
        grid: ``(gw, gh)`` when no file is given (paper 4 x 4).
        probs: cell probabilities (row-major) when no file is given.
        num_cells: ``(min, max)`` cells per sample, drawn uniformly (paper ``(1, 2)``,
            release ``(2, 2)``).
        prob: probability of occluding a sample (else an all-ones mask). Defaults to 1.
    """

    def __init__(self, distribution: Optional[str] = None, *,
                 grid: Optional[Tuple[int, int]] = None,
                 probs: Optional[Sequence[float]] = None,
                 num_cells: Tuple[int, int] = (1, 2), prob: float = 1.) -> None:
        super().__init__()
        if not 0 <= prob <= 1:
            raise ValueError(f'BinnedOcclusionCells: prob must be in [0, 1], got {prob}')
        if distribution:
            block = load_distribution(distribution).get('occlusion')
            if block is None:
                raise ValueError(f'{distribution}: no "occlusion" block for AHO')
            if grid is not None or probs is not None:
                raise ValueError(f'BinnedOcclusionCells: grid/probs come from {distribution}; '
                                 'do not also pass grid or probs')
            self.grid, self.probs = tuple(block['grid']), np.asarray(block['probs'])
        else:
            self.grid = tuple(grid or (4, 4))
            k = self.grid[0] * self.grid[1]
            self.probs = uniform_block(k) if probs is None else check_probs(
                probs, k, 'BinnedOcclusionCells: probs')
        k = self.grid[0] * self.grid[1]
        lo, hi = num_cells
        if not 1 <= lo <= hi < k:
            raise ValueError(f'BinnedOcclusionCells: num_cells must satisfy 1 <= min <= max '
                             f'< {k}, got {num_cells}')
        if np.count_nonzero(self.probs) < hi:
            raise ValueError(f'BinnedOcclusionCells: {hi} cells cannot be drawn without '
                             f'replacement from {np.count_nonzero(self.probs)} non-zero cells')
        self.distribution, self.num_cells, self.prob = distribution, (lo, hi), float(prob)

    @cache_randomness
    def _draw(self) -> Tuple[bool, np.ndarray, int]:
        """(apply, cell order without replacement (max cells), number of cells)."""
        apply = bool(np.random.rand() < self.prob)
        k = self.grid[0] * self.grid[1]
        order = np.random.choice(k, self.num_cells[1], replace=False, p=self.probs)
        count = int(np.random.randint(self.num_cells[0], self.num_cells[1] + 1))
        return apply, order, count

    def mask_from_draw(self, order: np.ndarray, count: int) -> np.ndarray:
        """``[gh, gw]`` float32 mask, 0 on the first ``count`` cells of ``order`` (the rule
        shared with the batch-tensor AHO)."""
        import torch
        from mmssl.models.augmenters.bridge import cells_from_order, occlusion_mask
        selected = cells_from_order(torch.as_tensor(order, dtype=torch.long)[None],
                                    torch.tensor([count]), self.grid[0] * self.grid[1])
        return occlusion_mask(selected, self.grid)[0].numpy().astype(np.float32)

    def transform(self, results: Dict) -> Dict:
        apply, order, count = self._draw()
        gw, gh = self.grid
        if apply:
            results['occlusion_mask'] = self.mask_from_draw(order, count)
        else:
            results['occlusion_mask'] = np.ones((gh, gw), np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(distribution={self.distribution!r}, grid={self.grid}, '
                f'num_cells={self.num_cells}, prob={self.prob})')
