"""Fitting the mixture of PPCA charts from an array of 3D poses (numpy, vectorised).

Procedure (Tome et al., "Lifting from the Deep", CVPR 2017, Sec. 4):

1. express the poses in the model frame ``(x, depth, up)``, centre each on the mean of its
   joints and divide it by the root-sum-square of its bone lengths;
2. initialise the charts by k-means on poses aligned to a common mean about the vertical axis;
3. alternate: (a) rotate every pose about the vertical axis only to align it with each chart's
   mean (closed form), assign it to the chart of highest PPCA likelihood, re-estimate each
   chart's mean on its aligned members; (b) PPCA on the aligned members. PPCA shrinks the
   coefficient variances along the bases to ``lambda_j - s2`` (Tipping & Bishop, 1999).
"""
from typing import Optional, Sequence, Tuple

import numpy as np

from .pose_prior import PosePrior, PosePriorError, bone_lengths_rss

_AXES = {'x': 0, 'y': 1, 'z': 2}


def model_frame_matrix(up_axis: str = 'z') -> np.ndarray:
    """Rotation taking a right-handed frame with the given up axis to ``(x, depth, up)``.

    Args:
        up_axis: One of ``x y z -x -y -z`` (e.g. ``'z'`` for Human3.6M world coordinates,
            ``'-y'`` for camera coordinates with ``y`` pointing down).

    Returns:
        np.ndarray: ``(3, 3)`` matrix ``T`` with ``model = T @ point`` (``det T = 1``).
    """
    key = up_axis.strip().lower()
    sign = -1. if key.startswith('-') else 1.
    if key.lstrip('+-') not in _AXES:
        raise ValueError(f"up_axis must be one of x y z -x -y -z, got '{up_axis}'")
    idx = _AXES[key.lstrip('+-')]
    up = np.zeros(3)
    up[idx] = sign
    right = np.zeros(3)
    right[0 if idx != 0 else 1] = 1.
    depth = np.cross(up, right)  # right x depth = up: right-handed
    return np.stack([right, depth, up])


def align_about_up(poses: np.ndarray, target: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Rotate poses about the vertical axis to best match a target (closed form).

    Args:
        poses: ``(N, 3, L)`` centred poses in the model frame.
        target: ``(3, L)`` or ``(N, 3, L)`` centred target pose(s).

    Returns:
        tuple: aligned poses ``(N, 3, L)`` and the angles ``(N,)`` (radians) that minimise
        ``sum_l ||R(theta) p_l - t_l||^2``.
    """
    x, d = poses[:, 0], poses[:, 1]
    tx, td = target[..., 0, :], target[..., 1, :]
    theta = np.arctan2((x * td - d * tx).sum(-1), (x * tx + d * td).sum(-1))
    c, s = np.cos(theta)[:, None], np.sin(theta)[:, None]
    out = poses.copy()
    out[:, 0] = c * x - s * d
    out[:, 1] = s * x + c * d
    return out, theta


def _ppca(aligned: np.ndarray, num_bases: int,
          dof: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """PPCA of aligned poses ``(n, 3, L)`` -> mean, bases ``(J, 3L)``, eigenvalues, noise."""
    flat = aligned.reshape(len(aligned), -1)
    mean = flat.mean(0)
    cov = np.cov(flat - mean, rowvar=False, bias=True)
    lam, vec = np.linalg.eigh(cov)
    lam, vec = lam[::-1], vec[:, ::-1]
    # The centring removes 3 directions: average the noise over the remaining discarded ones.
    s2 = max(float(lam[num_bases:dof].mean()), 1e-10 * float(lam[0]), 1e-16)
    bases = vec[:, :num_bases].T.copy()
    flip = np.sign(bases[np.arange(num_bases), np.abs(bases).argmax(1)])
    return mean, bases * flip[:, None], np.maximum(lam[:num_bases], s2 * (1 + 1e-6)), s2


def _nll(flat: np.ndarray, mean: np.ndarray, bases: np.ndarray, lam: np.ndarray, s2: float,
         dof: int) -> np.ndarray:
    """Negative log-likelihood (x2, up to a constant) of flat poses under one PPCA chart."""
    r = flat - mean
    c = r @ bases.T
    resid = np.maximum((r**2).sum(-1) - (c**2).sum(-1), 0.)
    return (c**2 / lam).sum(-1) + resid / s2 + np.log(lam).sum() + (dof - len(lam)) * np.log(s2)


def _kmeans_pp(flat: np.ndarray, k: int, rng: np.random.Generator,
               iters: int = 10) -> np.ndarray:
    """k-means++ labels of ``flat`` ``(N, D)`` into ``k`` clusters."""
    centres = [flat[rng.integers(len(flat))]]
    for _ in range(1, k):
        dist = np.min([((flat - c)**2).sum(-1) for c in centres], axis=0)
        prob = dist / dist.sum() if dist.sum() > 0 else None
        centres.append(flat[rng.choice(len(flat), p=prob)])
    cen = np.stack(centres)
    for _ in range(iters):
        labels = ((flat[:, None] - cen[None])**2).sum(-1).argmin(1)
        cen = np.stack([flat[labels == i].mean(0) if (labels == i).any() else cen[i]
                        for i in range(k)])
    return ((flat[:, None] - cen[None])**2).sum(-1).argmin(1)


def normalise_poses3d(poses: np.ndarray, parents: Sequence[int],
                      up_axis: str = 'z') -> Tuple[np.ndarray, np.ndarray]:
    """Model-frame, centred, bone-length normalised poses ``(N, 3, L)`` and their RSS (mm)."""
    x = np.einsum('ij,nlj->nil', model_frame_matrix(up_axis), poses)
    x = x - x.mean(-1, keepdims=True)
    rss = bone_lengths_rss(x.transpose(0, 2, 1), parents)
    if not (rss > 0).all():
        raise PosePriorError(f'{int((rss <= 0).sum())} poses have zero bone lengths')
    return x / rss[:, None, None], rss


def fit_pose_prior(poses: np.ndarray,
                   parents: Sequence[int],
                   num_charts: int = 3,
                   num_bases: int = 25,
                   num_iters: int = 10,
                   up_axis: str = 'z',
                   seed: int = 0,
                   joint_names: Optional[Sequence[str]] = None) -> PosePrior:
    """Fit the mixture of PPCA charts to 3D poses.

    Args:
        poses: ``(N, L, 3)`` poses (any unit, e.g. mm), any position and heading.
        parents: Parent joint of each joint (-1 for the root), defining the bones.
        num_charts: Number of PPCA charts ``M`` (the release uses 3).
        num_bases: Bases per chart ``J`` (the release uses 25); at most ``3L - 4``.
        num_iters: Alternations of alignment / assignment and PPCA.
        up_axis: Vertical axis of the input frame (see :func:`model_frame_matrix`).
        seed: Seed of the k-means initialisation.
        joint_names: Optional names stored in the model file.

    Returns:
        PosePrior: the fitted model.
    """
    poses = np.asarray(poses, dtype=np.float64)
    if poses.ndim != 3 or poses.shape[2] != 3:
        raise PosePriorError(f'poses must have shape (N, L, 3), got {poses.shape}')
    num, num_joints = poses.shape[:2]
    if len(parents) != num_joints:
        raise PosePriorError(f'{len(parents)} parents for {num_joints} joints')
    if not np.isfinite(poses).all():
        raise PosePriorError('poses contain NaN or inf')
    dof = 3 * num_joints - 3
    if not 1 <= num_bases < dof:
        raise PosePriorError(f'num_bases must be in [1, {dof - 1}] for {num_joints} joints, '
                             f'got {num_bases}')
    min_members = num_bases + 2
    if num_charts < 1 or num < num_charts * min_members:
        raise PosePriorError(f'{num} poses cannot fit {num_charts} charts of {num_bases} bases '
                             f'(need >= {num_charts * min_members})')
    rng = np.random.default_rng(seed)
    xb, rss = normalise_poses3d(poses, parents, up_axis)
    height = 2. / (xb[:, 2].max(-1) - xb[:, 2].min(-1))
    height_scale = float(height.mean())
    scale_std = max(float((height / height_scale).std()), 1e-3)

    # Common frame: generalised Procrustes about the vertical axis.
    ref = xb[0]
    for _ in range(5):
        aligned, _ = align_about_up(xb, ref)
        ref = aligned.mean(0)
    labels = _kmeans_pp(aligned.reshape(num, -1), num_charts, rng)
    means = np.stack([aligned[labels == m].mean(0) if (labels == m).any() else ref
                      for m in range(num_charts)])
    charts = None
    for it in range(num_iters + 1):
        # (a) align every pose to every chart's mean; assign by likelihood.
        al = np.stack([align_about_up(xb, means[m])[0] for m in range(num_charts)])
        if charts is not None:
            cost = np.stack([
                _nll(al[m].reshape(num, -1), *charts[m], dof=dof) - 2 * np.log(weights[m])
                for m in range(num_charts)
            ])
            labels = cost.argmin(0)
            own = cost[labels, np.arange(num)]
            for m in range(num_charts):  # refill a starved chart with the worst-fitted poses
                short = min_members - int((labels == m).sum())
                if short > 0:
                    donors = np.argsort(-own + 1e30 * (labels == m))[:short]
                    labels[donors] = m
                    own[donors] = -np.inf
        # (b) per chart: re-estimate the mean on aligned members, then PPCA.
        charts, new_means = [], []
        for m in range(num_charts):
            mem = xb[labels == m]
            mean = means[m]
            for _ in range(3):
                mem_al, _ = align_about_up(mem, mean)
                mean = mem_al.mean(0)
            mean_flat, bases, lam, s2 = _ppca(mem_al, num_bases, dof)
            charts.append((mean_flat, bases, lam, s2))
            new_means.append(mean)
        means = np.stack(new_means)
        weights = np.bincount(labels, minlength=num_charts) / num
    mu = np.stack([c[0].reshape(3, num_joints) for c in charts])
    e = np.stack([c[1].reshape(num_bases, 3, num_joints) for c in charts])
    sigma = np.stack([
        np.concatenate([1. / np.sqrt(c[2] - c[3]), [np.sqrt(c[3])]]) for c in charts
    ])
    return PosePrior(mu=mu, e=e, sigma=sigma, chart_weights=weights,
                     parents=np.asarray(parents, dtype=np.int64), scale_mm=float(rss.mean()),
                     height_scale=height_scale, scale_std=scale_std,
                     joint_names=None if joint_names is None else tuple(joint_names),
                     source='<fitted>')
