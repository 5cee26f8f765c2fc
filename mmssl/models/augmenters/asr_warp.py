"""ASR on the batch tensor: per-sample scale/rotation of images, keypoints, visibility and
heatmap targets (seed 001, Sec. 4.1), on the model's device.

The pipeline delivers the standard crop (no scale/rotation jitter); scale and rotation are
applied here about the input centre with the warps of
:mod:`mmssl.models.semi_pose.batch_augment` (pixel-exact for images and strided heatmaps).
Targets are either re-encoded from the warped keypoints with the model's codec rule (the
torch twin of mmpose's ``MSRAHeatmap.encode``, biased or unbiased, vectorised over the
batch), or warped as heatmaps (any heatmap codec; the Gaussian then scales with the image).

A keypoint keeps its weight only if it was labelled in the standard crop (pipeline weight
> 0) and its Gaussian still touches the heatmap after the warp (the codec's own rule);
pixels the warp brings in from outside the crop are zero (the normalised mean colour).
"""
from typing import Dict, Tuple

import torch

from mmssl.models.semi_pose.batch_augment import (affine_about_center, apply_to_points,
                                                  warp_tensor)


def scale_rotation_matrices(box_scale: torch.Tensor, rot_deg: torch.Tensor,
                            input_size: Tuple[int, int]) -> torch.Tensor:
    """``[B, 3, 3]`` standard-crop pixels -> augmented-crop pixels.

    Args:
        box_scale: ``[B]`` person-box scale factors (2 = a twice larger box = the image
            content shrinks by 2, mmpose's ``RandomBBoxTransform`` semantics).
        rot_deg: ``[B]`` rotation of the content, degrees counter-clockwise on screen.
        input_size: ``(w, h)``.
    """
    return affine_about_center(1. / box_scale, rot_deg, input_size)


def codec_geometry(codec) -> Dict[str, object]:
    """What target re-encoding needs from an mmpose heatmap codec."""
    name = type(codec).__name__
    if not hasattr(codec, 'heatmap_size') or not hasattr(codec, 'input_size'):
        raise TypeError(f'{name} is not a heatmap codec (no input_size/heatmap_size)')
    (w, h), (hw, hh) = codec.input_size, codec.heatmap_size
    return dict(name=name, input_size=(w, h), heatmap_size=(hw, hh),
                stride=(w / hw, h / hh), sigma=getattr(codec, 'sigma', None),
                unbiased=bool(getattr(codec, 'unbiased', False)))


def render_msra_heatmaps(keypoints: torch.Tensor, weights: torch.Tensor,
                         heatmap_size: Tuple[int, int], stride: Tuple[float, float],
                         sigma: float, unbiased: bool = False
                         ) -> Tuple[torch.Tensor, torch.Tensor]:
    """mmpose ``MSRAHeatmap.encode`` for a batch of single-instance samples, in torch.

    Biased: the Gaussian is centred on ``trunc(keypoint / stride + 0.5)`` and drawn on the
    integer window of mmpose's ``generate_gaussian_heatmaps``; unbiased (DarkPose): centred on
    the exact position over the whole map. A keypoint whose window misses the heatmap gets
    weight 0 and no Gaussian, as in mmpose.

    Args:
        keypoints: ``[B, K, 2]`` in input pixels.
        weights: ``[B, K]``; keypoints with weight <= 0 are not drawn (weight kept 0).
        heatmap_size: ``(W, H)``.
        stride: ``(sx, sy)`` input pixels per heatmap pixel.

    Returns:
        heatmaps ``[B, K, H, W]`` and keypoint weights ``[B, K]``.
    """
    W, H = heatmap_size
    dtype = torch.float32
    kp = keypoints.to(dtype) / keypoints.new_tensor(stride, dtype=dtype)
    radius = sigma * 3
    xs = torch.arange(W, device=kp.device, dtype=dtype)
    ys = torch.arange(H, device=kp.device, dtype=dtype)
    if unbiased:
        mu = kp
        lo, hi = mu - radius, mu + radius + 1
        dx = xs - mu[..., :1]  # [B, K, W]
        dy = ys - mu[..., 1:]  # [B, K, H]
        in_x = torch.ones_like(dx, dtype=torch.bool)
        in_y = torch.ones_like(dy, dtype=torch.bool)
    else:
        mu = torch.trunc(kp + 0.5)
        lo, hi = torch.trunc(mu - radius), torch.trunc(mu + radius + 1)
        size = 2 * radius + 1
        n_taps = torch.ceil(torch.tensor(size)).item()
        centre = float(size // 2)
        offset_x = xs - lo[..., :1]  # position inside mmpose's gaussian patch
        offset_y = ys - lo[..., 1:]
        in_x = (offset_x >= 0) & (offset_x < n_taps) & (xs < hi[..., :1])
        in_y = (offset_y >= 0) & (offset_y < n_taps) & (ys < hi[..., 1:])
        dx, dy = offset_x - centre, offset_y - centre
    # mmpose: left >= W or top >= H or right < 0 or bottom < 0 -> weight 0
    touches = (lo[..., 0] < W) & (lo[..., 1] < H) & (hi[..., 0] >= 0) & (hi[..., 1] >= 0)
    keep = touches & (weights > 0)
    gx = torch.exp(-dx ** 2 / (2 * sigma ** 2)) * in_x
    gy = torch.exp(-dy ** 2 / (2 * sigma ** 2)) * in_y
    heatmaps = gy[..., :, None] * gx[..., None, :] * keep[..., None, None]
    return heatmaps, weights.to(dtype) * keep


def warp_samples(images: torch.Tensor, keypoints: torch.Tensor, weights: torch.Tensor,
                 heatmaps: torch.Tensor, matrices: torch.Tensor, codec_geo: dict,
                 target_mode: str = 'reencode') -> Dict[str, torch.Tensor]:
    """Apply per-sample affines to images and targets.

    Args:
        images: ``[B, C, H, W]`` standard crops (normalised).
        keypoints: ``[B, K, 2]`` joints in input pixels.
        weights: ``[B, K]`` pipeline keypoint weights.
        heatmaps: ``[B, K, h, w]`` pipeline targets (used by ``target_mode='warp'``).
        matrices: ``[B, 3, 3]`` from :func:`scale_rotation_matrices`.
        codec_geo: :func:`codec_geometry` of the model's codec.
        target_mode: ``'reencode'`` (MSRAHeatmap codecs) or ``'warp'``.

    Returns:
        dict of ``images``, ``keypoints``, ``heatmaps``, ``weights`` after the warp.
    """
    out_images = warp_tensor(images, matrices)
    out_kpts = apply_to_points(matrices, keypoints.to(matrices.dtype))
    if target_mode == 'reencode':
        if codec_geo['name'] != 'MSRAHeatmap':
            raise ValueError(f"target_mode='reencode' reproduces MSRAHeatmap only; the codec "
                             f"is {codec_geo['name']}: use target_mode='warp'")
        out_hm, out_w = render_msra_heatmaps(out_kpts, weights, codec_geo['heatmap_size'],
                                             codec_geo['stride'], codec_geo['sigma'],
                                             codec_geo['unbiased'])
    elif target_mode == 'warp':
        out_hm = warp_tensor(heatmaps, matrices, codec_geo['stride'])
        w, h = codec_geo['input_size']
        inside = (out_kpts[..., 0] >= 0) & (out_kpts[..., 0] < w) & \
            (out_kpts[..., 1] >= 0) & (out_kpts[..., 1] < h)
        out_w = weights * inside
    else:
        raise ValueError(f"target_mode must be 'reencode' or 'warp', got {target_mode!r}")
    return dict(images=out_images, keypoints=out_kpts, heatmaps=out_hm.to(heatmaps.dtype),
                weights=out_w.to(weights.dtype))


__all__ = ['scale_rotation_matrices', 'codec_geometry', 'render_msra_heatmaps',
           'warp_samples']
