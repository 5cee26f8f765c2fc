"""Landmarks of belief maps for the lifting: integer argmax or sub-pixel refinement (batched).

The lifting layer needs the 2D landmarks of every belief map. An integer argmax quantises
them to the belief-map grid: on CPM's 16x16 maps of a 128x128 crop one cell is 8 input
pixels, about 1/12 of a person's height, and the 3D error of the lifting grows with that
quantisation (``tools/analysis/lifting_resolution_study.py`` measures it). The refinements
here move the integer maximum by a fraction of a cell, per axis, from the maximum and its two
neighbours, on the whole ``(N, K, H, W)`` tensor at once:

* ``'argmax'``: the integer maximum (what the lifting layer used before).
* ``'parabola'``: the vertex of the parabola through the three values.
* ``'gaussian'``: the vertex of the parabola through their logarithms, exact for a sampled
  Gaussian (the belief maps the network is trained to produce; the Taylor step of DARK,
  Zhang et al. CVPR 2020, without its blur). Where a neighbour is not positive (an untrained
  network's maps) the ``'parabola'`` step is used instead.

Both refinements stay within half a cell of the maximum, and a maximum on the border of the
map is not refined along that axis. Heat-map pixel ``(row, col)`` has coordinates ``(x, y) =
(col, row)`` as in MMPose's codecs.
"""
from typing import Tuple

import torch
from torch import Tensor

DECODE_MODES = ('argmax', 'parabola', 'gaussian')


def _vertex_offset(left: Tensor, centre: Tensor, right: Tensor) -> Tensor:
    """Vertex of the parabola through ``(-1, left), (0, centre), (1, right)``.

    With ``centre`` the largest of the three the vertex lies in ``[-0.5, 0.5]``; a flat
    triple gives 0.
    """
    curvature = left - 2 * centre + right  # <= 0 at a maximum
    safe = torch.where(curvature < 0, curvature, torch.full_like(curvature, -1.))
    offset = (left - right) / (2 * safe)
    return torch.where(curvature < 0, offset, torch.zeros_like(offset)).clamp(-0.5, 0.5)


def _axis_offset(belief: Tensor, idx: Tensor, dim: int, mode: str) -> Tensor:
    """Sub-cell offset along ``dim`` (-1: x, -2: y) at the integer maxima ``idx`` (N, K, 2)."""
    n, k, h, w = belief.shape
    size = w if dim == -1 else h
    x, y = idx[..., 0], idx[..., 1]
    flat = belief.reshape(n, k, h * w)

    def at(dx: int, dy: int) -> Tensor:
        xx, yy = (x + dx).clamp(0, w - 1), (y + dy).clamp(0, h - 1)
        return flat.gather(2, (yy * w + xx)[..., None])[..., 0]

    before, after = ((-1, 0), (1, 0)) if dim == -1 else ((0, -1), (0, 1))
    left, centre, right = at(*before), at(0, 0), at(*after)
    offset = _vertex_offset(left, centre, right)
    if mode == 'gaussian':
        positive = (left > 0) & (centre > 0) & (right > 0)
        tiny = torch.finfo(belief.dtype).tiny
        logs = [v.clamp(min=tiny).log() for v in (left, centre, right)]
        offset = torch.where(positive, _vertex_offset(*logs), offset)
    pos = idx[..., 0] if dim == -1 else idx[..., 1]
    inside = (pos > 0) & (pos < size - 1)
    return torch.where(inside, offset, torch.zeros_like(offset))


def decode_landmarks(belief: Tensor, mode: str = 'gaussian') -> Tuple[Tensor, Tensor]:
    """Landmarks ``(N, K, 2)`` ``(x, y)`` in cells and peak values ``(N, K)`` of belief maps.

    Args:
        belief: ``(N, K, H, W)`` belief maps (not differentiated: the lifting layer has its
            own sub-gradient, see :class:`~.functions.BeliefMapLifting`).
        mode: One of :data:`DECODE_MODES` (see the module docstring).

    Returns:
        tuple: landmarks (the dtype of ``belief``, float32 for integer or half maps) and the
        maxima of the maps.
    """
    if mode not in DECODE_MODES:
        raise ValueError(f'decode must be one of {DECODE_MODES}, got {mode!r}')
    if belief.ndim != 4:
        raise ValueError(f'belief maps must be (N, K, H, W), got {tuple(belief.shape)}')
    belief = belief.detach()
    if belief.dtype not in (torch.float32, torch.float64):
        belief = belief.float()
    n, k, h, w = belief.shape
    peak, flat_idx = belief.reshape(n, k, h * w).max(-1)
    idx = torch.stack([flat_idx % w, torch.div(flat_idx, w, rounding_mode='floor')], -1)
    landmarks = idx.to(belief.dtype)
    if mode != 'argmax':
        offsets = torch.stack([_axis_offset(belief, idx, -1, mode),
                               _axis_offset(belief, idx, -2, mode)], -1)
        landmarks = landmarks + offsets
    return landmarks, peak
