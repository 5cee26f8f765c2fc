"""Held-out evaluation of a pose model: project 3D poses to 2D, lift them back, measure.

One implementation of the held-out projection serves the fit tool
(``tools/misc/fit_pose_prior.py --eval-poses``), the lifting tests, the speed benchmark and the
ridge comparison (``configs/lifting/README.md``): poses are turned into the lifter's camera
frame ``(x right, depth, up)`` at a uniformly random heading about the vertical axis, made
root-relative and projected orthographically to image coordinates (``y`` down).
"""
from typing import Dict, Optional, Tuple

import numpy as np
import torch

from .fitting import model_frame_matrix
from .lifter import PPCAMixtureLifter
from .pose_prior import PosePrior


def project_held_out(poses: np.ndarray,
                     seed: int = 0,
                     up_axis: str = 'z',
                     root: int = 0,
                     scale: float = 1.0,
                     offset: float = 0.0) -> Tuple[np.ndarray, np.ndarray]:
    """Camera-frame poses at random headings and their orthographic image landmarks.

    Args:
        poses: ``(N, L, 3)`` poses (e.g. mm) with vertical axis ``up_axis``.
        seed: Seed of the headings (uniform in ``[0, 2 pi)``).
        up_axis: Vertical axis of ``poses`` (see :func:`~.fitting.model_frame_matrix`).
        root: Joint the camera-frame poses are made relative to.
        scale: Image units per pose unit. offset: Added to both image coordinates.

    Returns:
        tuple: ``cam`` ``(N, L, 3)`` root-relative poses in the frame ``(x right, depth,
        up)`` and ``keypoints`` ``(N, L, 2)`` = ``(x, -up) * scale + offset``.
    """
    poses = np.asarray(poses, dtype=np.float64)
    if poses.ndim != 3 or poses.shape[-1] != 3:
        raise ValueError(f'poses must have shape (N, L, 3), got {poses.shape}')
    rng = np.random.default_rng(seed)
    cam = np.einsum('ij,nlj->nli', model_frame_matrix(up_axis), poses)
    yaw = rng.uniform(0, 2 * np.pi, len(cam))
    c, s = np.cos(yaw)[:, None], np.sin(yaw)[:, None]
    cam = np.stack([c * cam[..., 0] - s * cam[..., 1], s * cam[..., 0] + c * cam[..., 1],
                    cam[..., 2]], -1)
    cam = cam - cam[:, root:root + 1]
    kpts = np.stack([cam[..., 0], -cam[..., 2]], -1) * scale + offset
    return cam, kpts


def add_landmark_noise(keypoints: np.ndarray, noise: float, seed: int = 0) -> np.ndarray:
    """Gaussian 2D noise of standard deviation ``noise`` x each person's 2D height.

    Args:
        keypoints: ``(N, L, 2)`` image landmarks.
        noise: Relative standard deviation (e.g. 0.02: 2 % of the person's height; the
            lifter's normalised units have height 2, so this is ``noise_2d / 2``).
        seed: Seed of the noise.
    """
    if noise < 0:
        raise ValueError(f'noise must be >= 0, got {noise}')
    if noise == 0:
        return keypoints
    height = np.ptp(keypoints[..., 1], axis=1)[:, None, None]
    rng = np.random.default_rng(seed)
    return keypoints + rng.standard_normal(keypoints.shape) * noise * height


def evaluate_lifting(prior: PosePrior,
                     poses: np.ndarray,
                     up_axis: str = 'z',
                     seed: int = 0,
                     noise: float = 0.0,
                     return_poses: bool = False,
                     **lifter_kwargs) -> Dict[str, float]:
    """Project held-out poses (:func:`project_held_out`), lift them and measure the 3D error.

    Args:
        prior: The pose model. poses: ``(N, L, 3)`` held-out poses (mm).
        up_axis: Their vertical axis. seed: Seed of the headings and of the noise.
        noise: Relative 2D noise (:func:`add_landmark_noise`) added before lifting.
        return_poses: Also return the camera-frame ground truth and the lifted poses.
        **lifter_kwargs: Arguments of :class:`~.lifter.PPCAMixtureLifter` (``ridge``,
            ``noise_2d``, ``num_rotations``, ...).

    Returns:
        dict: ``mpjpe`` and ``pa_mpjpe`` (root-relative, mm, mmpose's ``keypoint_mpjpe``),
        ``reprojection`` (mean 2D distance of the lifted pose's projection to the lifted
        landmarks, pose units) and ``num``; with ``return_poses`` also ``gt`` and ``pred``
        arrays.
    """
    from mmpose.evaluation.functional import keypoint_mpjpe
    root = int(np.flatnonzero(prior.parents < 0)[0])
    cam, kpts = project_held_out(poses, seed=seed, up_axis=up_axis, root=root)
    kpts = add_landmark_noise(kpts, noise, seed=seed + 1)
    lifter = PPCAMixtureLifter(prior, **lifter_kwargs)
    with torch.no_grad():
        res = lifter(torch.from_numpy(kpts))
    pred = res.poses_3d.numpy()
    mask = np.ones(cam.shape[:2], dtype=bool)
    out = dict(mpjpe=float(keypoint_mpjpe(pred, cam, mask, 'none')),
               pa_mpjpe=float(keypoint_mpjpe(pred, cam, mask, 'procrustes')),
               reprojection=float(np.linalg.norm(res.keypoints_2d.numpy() - kpts,
                                                 axis=-1).mean()),
               num=len(cam))
    if return_poses:
        out.update(gt=cam, pred=pred)
    return out


def compare_ridges(prior: PosePrior,
                   poses: np.ndarray,
                   noises=(0.0, 0.01, 0.02, 0.05),
                   up_axis: str = 'z',
                   seed: int = 0,
                   noise_2d: Optional[float] = None,
                   **lifter_kwargs) -> Dict[str, Dict[float, Dict[str, float]]]:
    """Held-out 3D error of every ridge system at several 2D noise levels.

    ``noise_2d`` (the ``'map'`` system's 2D noise setting) defaults to the true noise of
    each level in normalised units (``2 * noise``) so that each system gets its best-informed
    setting. Returns ``{ridge: {noise: metrics}}``.
    """
    from .lifter import RIDGE_MODES
    out: Dict[str, Dict[float, Dict[str, float]]] = {}
    for ridge in RIDGE_MODES:
        out[ridge] = {}
        for level in noises:
            n2d = 2 * level if noise_2d is None else noise_2d
            out[ridge][level] = evaluate_lifting(prior, poses, up_axis, seed, level,
                                                 ridge=ridge, noise_2d=n2d, **lifter_kwargs)
    return out
