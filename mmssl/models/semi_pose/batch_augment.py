"""Hard-view augmentation on the batch tensor (PoseDual, seed 000).

Everything here works on whole ``[B, C, H, W]`` tensors on the model's device: the extra
per-sample affine of the hard view, the same affine applied to teacher heatmaps
(``T_{e->h}``), and Joint Cutout. Affines are built in *pixel* space and converted to
``affine_grid``'s normalised coordinates per tensor size, so a heatmap warp is geometrically
the image warp even when the input is not square (256x192) and the heatmap is strided.

Conventions: ``matrices`` are ``[B, 3, 3]`` maps from easy-view input pixels to hard-view
input pixels; an mmpose heatmap pixel ``u`` corresponds to input pixel ``u * stride`` (how
mmpose's heatmap codecs encode and decode).
"""
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.dist import get_rank


def step_generator(device, step: int, stream: int = 0) -> torch.Generator:
    """The random generator of one training step's batch augmentation on this rank.

    Seeded from (the run's seed ``torch.initial_seed()``, the rank, ``step``, ``stream``):
    mmengine syncs the global seed across ranks by default, so draws from the global RNG
    would be the same on every rank; these differ per rank, repeat under a fixed seed, and a
    resumed run draws at step ``s`` what an uninterrupted run draws there.
    """
    seq = np.random.SeedSequence([torch.initial_seed() % 2**63, get_rank(), int(step),
                                  int(stream)])
    generator = torch.Generator(device=device)
    generator.manual_seed(int(seq.generate_state(1, np.uint64)[0] % 2**63))
    return generator


def sample_hard_affine(batch_size: int, input_size: Tuple[int, int], *,
                       scale_sigma: float = 0.25, scale_range: Tuple[float, float] = (0.75,
                                                                                      1.25),
                       rot_sigma: float = 30., rot_range: float = 60., rot_prob: float = 0.8,
                       device=None, generator: Optional[torch.Generator] = None
                       ) -> torch.Tensor:
    """Per-sample scale/rotation about the input centre, as ``[B, 3, 3]`` pixel matrices.

    scale ~ clip(N(1, scale_sigma), *scale_range); rotation (degrees) ~ clip(N(0, rot_sigma),
    +-rot_range) with probability ``rot_prob``, else 0 (seed 000 release values).
    """
    w, h = input_size
    randn = torch.randn(2, batch_size, generator=generator, device=device)
    scale = (1 + scale_sigma * randn[0]).clamp(*scale_range)
    rot = (rot_sigma * randn[1]).clamp(-rot_range, rot_range)
    keep = torch.rand(batch_size, generator=generator, device=device) < rot_prob
    rot = torch.where(keep, rot, torch.zeros_like(rot))
    return affine_about_center(scale, rot, (w, h))


def affine_about_center(scale: torch.Tensor, rot_deg: torch.Tensor,
                        input_size: Tuple[int, int]) -> torch.Tensor:
    """``[B, 3, 3]``: rotate by ``rot_deg`` (counter-clockwise on screen) and scale about the
    pixel centre of a ``(w, h)`` input."""
    w, h = input_size
    a = torch.deg2rad(rot_deg)
    cos, sin = torch.cos(a) * scale, torch.sin(a) * scale
    cx, cy = (w - 1) / 2., (h - 1) / 2.
    mat = torch.zeros(scale.shape[0], 3, 3, device=scale.device, dtype=scale.dtype)
    # y points down, so a screen counter-clockwise rotation is [[c, s], [-s, c]]
    mat[:, 0, 0], mat[:, 0, 1] = cos, sin
    mat[:, 1, 0], mat[:, 1, 1] = -sin, cos
    mat[:, 0, 2] = cx - cos * cx - sin * cy
    mat[:, 1, 2] = cy + sin * cx - cos * cy
    mat[:, 2, 2] = 1
    return mat


def _pixel_to_normalised(width: int, height: int, like: torch.Tensor) -> torch.Tensor:
    """Pixel centres -> affine_grid coordinates (align_corners=False)."""
    n = torch.zeros(3, 3, dtype=like.dtype, device=like.device)
    n[0, 0], n[0, 2] = 2. / width, 1. / width - 1
    n[1, 1], n[1, 2] = 2. / height, 1. / height - 1
    n[2, 2] = 1
    return n


def warp_tensor(x: torch.Tensor, matrices: torch.Tensor,
                stride: Tuple[float, float] = (1., 1.), mode: str = 'bilinear') -> torch.Tensor:
    """Warp ``x`` (``[B, C, h, w]``) by pixel matrices defined on the *input* grid.

    Args:
        x: images (stride 1) or heatmaps (stride = input size / heatmap size).
        matrices: ``[B, 3, 3]`` easy-input -> hard-input pixel maps.
        stride: ``(sx, sy)`` input pixels per pixel of ``x``.
        mode: ``grid_sample`` interpolation. Outside the source is zero-filled.
    """
    b, _, h, w = x.shape
    sx, sy = stride
    down = torch.diag(x.new_tensor([1. / sx, 1. / sy, 1.]))
    up = torch.diag(x.new_tensor([sx, sy, 1.]))
    on_x = down @ matrices.to(x.dtype) @ up  # the same map in x's own pixel units
    norm = _pixel_to_normalised(w, h, x)
    # affine_grid wants output -> source, in normalised coordinates
    theta = norm @ torch.linalg.inv(on_x) @ torch.linalg.inv(norm)
    grid = F.affine_grid(theta[:, :2], list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode=mode, padding_mode='zeros', align_corners=False)


def apply_to_points(matrices: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Map ``[B, K, 2]`` pixel points with ``[B, 3, 3]`` matrices."""
    homog = torch.cat([points, torch.ones_like(points[..., :1])], -1)
    return (homog @ matrices.transpose(1, 2))[..., :2]


def heatmap_argmax(heatmaps: torch.Tensor, stride: Tuple[float, float]) -> torch.Tensor:
    """Integer argmax of each channel, in input pixels: ``[B, K, 2]``."""
    b, k, h, w = heatmaps.shape
    idx = heatmaps.flatten(2).argmax(-1)
    return torch.stack([(idx % w).float() * stride[0], (idx // w).float() * stride[1]], -1)


def cutout_mask(height: int, width: int, centers: torch.Tensor,
                half_sizes: torch.Tensor) -> torch.Tensor:
    """``[B, H, W]`` bool: pixels inside any box ``|x - cx| <= hw, |y - cy| <= hh``.

    The one definition of a Joint Cutout box on the pixel grid, shared by the batch-tensor
    cutout (:func:`joint_cutout`) and the per-sample pipeline transform
    (:class:`mmssl.datasets.transforms.JointCutout`).

    Args:
        height, width: the image size in pixels.
        centers: ``[B, M, 2]`` box centres in pixels.
        half_sizes: ``[B, M, 2]`` half widths and heights in pixels.
    """
    xs = torch.arange(width, device=centers.device, dtype=centers.dtype)
    ys = torch.arange(height, device=centers.device, dtype=centers.dtype)
    in_x = (xs[None, None] - centers[..., :1]).abs() <= half_sizes[..., :1]  # [B, M, W]
    in_y = (ys[None, None] - centers[..., 1:]).abs() <= half_sizes[..., 1:]  # [B, M, H]
    return (in_y[..., :, None] & in_x[..., None, :]).any(1)


def joint_cutout(images: torch.Tensor, centers: torch.Tensor,
                 half_sizes: torch.Tensor) -> torch.Tensor:
    """Zero the boxes ``|x - cx| <= hw, |y - cy| <= hh`` of every sample.

    Args:
        images: ``[B, C, H, W]`` (normalised, so 0 is the mean colour).
        centers: ``[B, M, 2]`` box centres in pixels.
        half_sizes: ``[B, M, 2]`` half widths and heights in pixels.
    """
    _, _, h, w = images.shape
    mask = cutout_mask(h, w, centers, half_sizes)
    return images * (~mask)[:, None].to(images.dtype)


def cutout_boxes(chosen: torch.Tensor, noise: torch.Tensor, unit: torch.Tensor,
                 input_height: float, *, jitter: float = 10.,
                 half_size_range: Sequence[float] = (10., 20.),
                 reference_height: float = 256.) -> Tuple[torch.Tensor, torch.Tensor]:
    """Joint Cutout boxes from their draws (no randomness here).

    Centre = chosen joint + ``jitter * noise``; half size per axis =
    ``lo + (hi - lo) * unit``; pixel values are given for a ``reference_height``-pixel-high
    input (256 in the paper) and scaled to ``input_height``.

    Args:
        chosen: ``[B, M, 2]`` the joints picked for the boxes, in input pixels.
        noise: ``[B, M, 2]`` standard normal draws (centre jitter).
        unit: ``[B, M, 2]`` uniform [0, 1) draws (half sizes).
        input_height: height of the input the joints live in.

    Returns:
        (centers, half_sizes), each ``[B, M, 2]``.
    """
    scale = float(input_height) / reference_height
    lo, hi = half_size_range
    centers = chosen + jitter * scale * noise.to(chosen.dtype)
    half = (lo + (hi - lo) * unit.to(chosen.dtype)) * scale
    return centers, half


def sample_joint_cutout(joints: torch.Tensor, input_size: Tuple[int, int], *,
                        num_joints: int = 5, jitter: float = 10.,
                        half_size_range: Sequence[float] = (10., 20.),
                        reference_height: float = 256.,
                        generator: Optional[torch.Generator] = None
                        ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Draw Joint Cutout boxes around ``num_joints`` of the given joints per sample.

    Joints are chosen uniformly with replacement; centres get N(0, jitter) noise; half
    sizes are U(half_size_range) per axis (:func:`cutout_boxes`). Pixel values are given for
    a ``reference_height``-pixel-high input (256 in the paper) and scaled to ``input_size``.

    Returns:
        (centers, half_sizes), each ``[B, num_joints, 2]``.
    """
    b, k, _ = joints.shape
    device = joints.device
    pick = torch.randint(k, (b, num_joints), generator=generator, device=device)
    chosen = torch.gather(joints, 1, pick[..., None].expand(-1, -1, 2))
    noise = torch.randn(b, num_joints, 2, generator=generator, device=device)
    unit = torch.rand(b, num_joints, 2, generator=generator, device=device)
    return cutout_boxes(chosen, noise, unit, input_size[1], jitter=jitter,
                        half_size_range=half_size_range, reference_height=reference_height)


__all__ = ['sample_hard_affine', 'affine_about_center', 'warp_tensor', 'apply_to_points',
           'heatmap_argmax', 'cutout_mask', 'joint_cutout', 'cutout_boxes',
           'sample_joint_cutout']
