"""A straightforward per-pose numpy loop of the lifting math (reference and benchmark baseline).

Same model and objective as :class:`~.lifter.PPCAMixtureLifter`, solved the way the authors'
release does: for every person, chart and rotation one ``numpy.linalg.lstsq`` on the stacked
system ``Ebar a = [W^1/2 (y - p), 0]`` with ``Ebar = [W^1/2 E; D]``. Used by the tests to check
the batched solver and by ``benchmarks/bench_lifting.py`` as the baseline.
"""
from typing import Dict

import numpy as np

from .lifter import PPCAMixtureLifter


def lift_reference(keypoints: np.ndarray, visible: np.ndarray,
                   lifter: PPCAMixtureLifter) -> Dict[str, np.ndarray]:
    """Lift ``(N, L, 2)`` landmarks one person at a time.

    Returns:
        dict: ``chart``, ``rotation`` ``(N,)``, ``coeffs`` ``(N, J+1)``, ``objective`` ``(N,)``,
        ``poses_3d_normalised`` ``(N, L, 3)`` and ``keypoints_2d`` ``(N, L, 2)``; invalid rows
        (fewer than ``lifter.min_visible`` visible joints) are NaN.
    """
    e_all = lifter.e_mat.double().cpu().numpy()  # (M, R, 2L, J')
    p_all = lifter.p_vec.double().cpu().numpy()
    ridge = lifter.ridge.double().cpu().numpy()
    noise_var = lifter.noise_var.double().cpu().numpy()
    const = lifter.nll_const.double().cpu().numpy()
    basis = lifter.basis.double().cpu().numpy()
    rots = lifter.rotations.double().cpu().numpy()
    m_charts, n_rot, two_l, j = e_all.shape
    num = len(keypoints)
    out = dict(chart=np.full(num, -1), rotation=np.full(num, -1),
               coeffs=np.full((num, j), np.nan), objective=np.full(num, np.nan),
               poses_3d_normalised=np.full((num, two_l // 2, 3), np.nan),
               keypoints_2d=np.full((num, two_l // 2, 2), np.nan))
    for n in range(num):
        vis = np.asarray(visible[n], dtype=bool)
        pts = np.asarray(keypoints[n], dtype=np.float64)
        if vis.sum() < lifter.min_visible:
            continue
        centre = pts[vis].mean(0)
        ext = pts[vis].max(0) - pts[vis].min(0)
        scale = (ext[1] if ext[1] > 1e-6 else ext[0]) / 2
        if scale <= 1e-6:
            continue
        y = ((pts - centre) / scale * np.array([1., -1.])).reshape(-1)
        sw = np.sqrt(np.repeat(vis, 2).astype(np.float64))
        best = None
        for m in range(m_charts):
            chart_best = None
            for r in range(n_rot):
                ebar = np.concatenate([sw[:, None] * e_all[m, r], np.diag(ridge[m])])
                rhs = np.concatenate([sw * (y - p_all[m, r]), np.zeros(j)])
                a = np.linalg.lstsq(ebar, rhs, rcond=None)[0]
                obj = float(((ebar @ a - rhs)**2).sum())
                if chart_best is None or obj < chart_best[0]:
                    chart_best = (obj, r, a, np.linalg.slogdet(ebar.T @ ebar)[1])
            obj, r, a, logdet = chart_best
            nll = obj / noise_var[m] + logdet + (2 * vis.sum() - j) * np.log(noise_var[m]) + \
                const[m]
            if best is None or nll < best[0]:
                best = (nll, m, r, a, obj)
        _, m, r, a, obj = best
        pose = rots[r] @ (basis[m, 0] + np.einsum('j,jcl->cl', a, basis[m]))
        out['chart'][n], out['rotation'][n], out['coeffs'][n], out['objective'][n] = m, r, a, obj
        out['poses_3d_normalised'][n] = pose.T
        out['keypoints_2d'][n] = pose[[0, 2]].T * np.array([1., -1.]) * scale + centre
    return out
