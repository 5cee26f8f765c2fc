"""Targets of the augmentation network G and its KL losses (seed 001, Eq. 3-6).

* :func:`sweep_targets`: pre-training targets P^s, P^r from the pose network's loss on every
  bin (Sec. 4.1), accumulated over the bins and normalised per image.
* :func:`vote_cells`: the AHO pre-training target P^o, joints voted into a ``w x h`` grid.
* :func:`reward_penalty_target`: the online target of joint training (Eq. 5, 6), with the
  release's clipping to ``[0, 2/k]`` as an option.
* :func:`kl_loss`: ``KL(P || P~)`` summed over bins, averaged over images.

Everything works on whole ``[B, k]`` tensors.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F


def normalise_rows(values: torch.Tensor) -> torch.Tensor:
    """Each row divided by its sum; a row that sums to 0 becomes uniform."""
    values = values.clamp_min(0)
    total = values.sum(-1, keepdim=True)
    uniform = torch.full_like(values, 1. / values.shape[-1])
    return torch.where(total > 0, values / total.clamp_min(torch.finfo(values.dtype).tiny),
                       uniform)


def sweep_targets(losses: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """P^s and P^r from per-image losses of a bin sweep.

    Args:
        losses: ``[B, m, n]`` (the paper's m x n grid: loss of scale bin i combined with
            rotation bin j, accumulated into both bins), or a pair ``([B, m], [B, n])`` (the
            release: each scale bin at rotation 0, each rotation bin at scale 1).

    Returns:
        ``([B, m], [B, n])`` distributions (rows sum to 1; uniform where all losses are 0).
    """
    if isinstance(losses, (tuple, list)):
        scale, rot = losses
    else:
        if losses.dim() != 3:
            raise ValueError(f'grid sweep losses must be [B, m, n], got {tuple(losses.shape)}')
        scale, rot = losses.sum(2), losses.sum(1)
    return normalise_rows(scale), normalise_rows(rot)


def cell_index(points: torch.Tensor, input_size: Tuple[int, int],
               grid: Tuple[int, int]) -> Tuple[torch.Tensor, torch.Tensor]:
    """Grid cell (flat index, row-major) of ``[..., 2]`` pixel points and whether the point
    lies inside the ``(w, h)`` input."""
    w, h = input_size
    gw, gh = grid
    x, y = points[..., 0], points[..., 1]
    inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    col = torch.div(x * gw, w, rounding_mode='floor').clamp(0, gw - 1).long()
    row = torch.div(y * gh, h, rounding_mode='floor').clamp(0, gh - 1).long()
    return row * gw + col, inside


def vote_cells(keypoints: torch.Tensor, weights: torch.Tensor, input_size: Tuple[int, int],
               grid: Tuple[int, int] = (4, 4)) -> torch.Tensor:
    """Count the labelled joints of every image in each cell of a ``(gw, gh)`` grid.

    Args:
        keypoints: ``[B, K, 2]`` joints in input pixels.
        weights: ``[B, K]``; joints with weight <= 0 (unlabelled, outside) do not vote.
        input_size: ``(w, h)`` of the input.
        grid: ``(gw, gh)``.

    Returns:
        ``[B, gw * gh]`` vote counts (row-major cells, as :func:`occlusion_mask` uses).
    """
    idx, inside = cell_index(keypoints, input_size, grid)
    valid = (inside & (weights > 0)).to(keypoints.dtype)
    votes = keypoints.new_zeros(keypoints.shape[0], grid[0] * grid[1])
    return votes.scatter_add_(1, idx, valid)


def reward_penalty_target(pred: torch.Tensor, selected: torch.Tensor, harder: torch.Tensor,
                          *, alpha: float = 0.2, beta: float = 0.5,
                          clip_upper: bool = False) -> torch.Tensor:
    """The online target P of G (Eq. 5 reward, Eq. 6 penalty), per image.

    Reward (the adversarial augmentation was harder than the random reference): every
    sampled bin gains ``alpha * P~_i`` and the other bins share the loss equally; penalty:
    every sampled bin loses ``beta * P~_i`` and the others share the gain. With one sampled
    bin this is exactly Eq. 5/6 (``P_j = P~_j -+ alpha P~_i / (k - 1)``). The result is made a
    valid distribution (negative entries clipped to 0, renormalised: only needed when a
    reward would push a tiny bin below 0). ``clip_upper`` (the release) also caps every bin
    at ``2 / k`` and hands the excess to the uncapped bins (repeated until every bin is
    within ``[0, 2/k]``; the release stops after one round).

    Args:
        pred: ``[B, k]`` predicted distribution P~ (detached here).
        selected: ``[B, k]`` bool, the sampled bins/cells of each image (at least one).
        harder: ``[B]`` bool, adversarial loss > reference loss.
        alpha, beta: reward and penalty amounts, ``0 < alpha, beta <= 1``.

    Returns:
        ``[B, k]`` target distributions (rows sum to 1).
    """
    if not (0 < alpha <= 1 and 0 < beta <= 1):
        raise ValueError(f'alpha and beta must be in (0, 1], got alpha={alpha}, beta={beta}')
    pred = pred.detach()
    sel = selected.to(pred.dtype)
    k = pred.shape[-1]
    n_sel = sel.sum(-1, keepdim=True)
    if bool((n_sel < 1).any()) or bool((n_sel >= k).any()):
        raise ValueError('every image needs at least one and fewer than k selected bins')
    ratio = torch.where(harder, pred.new_tensor(alpha), pred.new_tensor(-beta))[:, None]
    change = ratio * pred * sel
    target = pred + change - (1 - sel) * change.sum(-1, keepdim=True) / (k - n_sel)
    if clip_upper:
        # the release redistributes once; repeating until no bin leaves [0, 2/k] (at most k
        # rounds, every round caps one more bin) makes the cap hold for every row
        for _ in range(k):
            outside = (target > 2. / k + 1e-7) | (target < -1e-7)
            if not bool(outside.any()):
                break
            target = _clip_and_redistribute(target, 2. / k)
    return normalise_rows(target)


def _clip_and_redistribute(target: torch.Tensor, upper: float) -> torch.Tensor:
    """The release's post-processing: clip to ``[0, upper]``; a net excess is added equally
    to the bins not capped at ``upper``, a net deficit taken equally from the bins not
    clipped at 0 (never below 0)."""
    over = target > upper
    under = target < 0
    gap = (target - upper).clamp_min(0).sum(-1, keepdim=True) + \
        target.clamp_max(0).sum(-1, keepdim=True)
    clipped = target.clamp(0, upper)
    give = (~over).to(target.dtype)
    take = (~under).to(target.dtype)
    add = torch.where(gap > 0, give * gap / give.sum(-1, keepdim=True).clamp_min(1),
                      take * gap / take.sum(-1, keepdim=True).clamp_min(1))
    return (clipped + add).clamp_min(0)


def kl_loss(target: torch.Tensor, logits: torch.Tensor,
            weight: Optional[torch.Tensor] = None) -> torch.Tensor:
    """``sum_i P_i log(P_i / P~_i)`` with ``P~ = softmax(logits)``, mean over images.

    Args:
        target: ``[B, k]`` distributions P (no gradient).
        logits: ``[B, k]`` G's logits.
        weight: optional ``[B]`` per-image weights (mean over the weighted images).
    """
    per_image = F.kl_div(F.log_softmax(logits, -1), target.detach(), reduction='none').sum(-1)
    if weight is None:
        return per_image.mean()
    return (per_image * weight).sum() / weight.sum().clamp_min(1e-12)


__all__ = ['normalise_rows', 'sweep_targets', 'cell_index', 'vote_cells',
           'reward_penalty_target', 'kl_loss']
