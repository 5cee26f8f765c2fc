"""The seed's ridge system (Eq. 2/5/6) against independent stacked least squares.

Everything the lifter is compared with here is built in the test from the pose model's arrays:
the projected rotated bases ``E`` (``2L x J``), ``p = Pi R mu``, the stacked
``Ebar = [W^1/2 E; diag(sigma)]`` (``(2L + J) x J``) and one ``numpy.linalg.lstsq`` per chart
and rotation, not the lifter's normal equations or precomputed pseudo-inverses.
"""
import dataclasses

import numpy as np
import pytest
import torch

from lifting_helpers import prior, project_held_out, single_thread  # noqa: F401
from mmssl.models.lifting import PPCAMixtureLifter

NUM_ROT = 24


def _stacked_systems(prior, chart, y, vis):
    """Per rotation: ``Ebar``, the right-hand side ``[W^1/2 (y - p), 0]`` and ``E``."""
    h, num_joints = prior.height_scale, prior.num_joints
    bases = h * np.concatenate([prior.mu[chart][None], prior.e[chart]])  # mean basis first
    sigma = np.r_[1. / prior.scale_std, prior.inv_std[chart]]  # inverse standard deviations
    sw = np.sqrt(np.repeat(vis, 2).astype(np.float64))
    out = []
    for r in range(NUM_ROT):
        t = 2 * np.pi * r / NUM_ROT
        rot = np.array([[np.cos(t), -np.sin(t), 0.], [np.sin(t), np.cos(t), 0.], [0., 0., 1.]])
        # unwrap Pi R b for every basis b into a column (x, up) per joint
        e_full = np.stack([(rot @ b)[[0, 2]].T.reshape(2 * num_joints) for b in bases], 1)
        p, e_mat = e_full[:, 0], e_full  # the mean's coefficient carries the scale
        ebar = np.concatenate([sw[:, None] * e_mat, np.diag(sigma)], 0)
        rhs = np.concatenate([sw * (y - p), np.zeros(len(sigma))])
        out.append((ebar, rhs, e_mat, p, sigma))
    return out


def _normalise(kpts, vis):
    c = kpts[vis].mean(0)
    s = np.ptp(kpts[vis][:, 1]) / 2
    return ((kpts - c) / s * np.array([1., -1.])).reshape(-1), c, s


@pytest.mark.parametrize('chart', [0, 1, 2])
def test_seed_ridge_equals_lstsq_of_the_stacked_system(prior, chart):
    one = dataclasses.replace(prior, mu=prior.mu[chart:chart + 1], e=prior.e[chart:chart + 1],
                              sigma=prior.sigma[chart:chart + 1], chart_weights=np.ones(1))
    lifter = PPCAMixtureLifter(one, num_rotations=NUM_ROT, ridge='seed', noise_2d=0.3)
    _, kpts = project_held_out(4, seed=20 + chart)
    vis = np.ones((4, 17), dtype=bool)
    vis[3, [2, 9, 15]] = False  # the weighted path
    res = lifter(torch.tensor(kpts), torch.tensor(vis), return_jacobian=True)
    for n in range(4):
        y, _, _ = _normalise(kpts[n], vis[n])
        solves = []
        for ebar, rhs, e_mat, p, sigma in _stacked_systems(prior, chart, y, vis[n]):
            a = np.linalg.lstsq(ebar, rhs, rcond=None)[0]
            solves.append((((ebar @ a - rhs)**2).sum(), a, ebar, e_mat))
        best = int(np.argmin([s[0] for s in solves]))
        obj, a, ebar, e_mat = solves[best]
        assert res.rotation[n].item() == best
        assert np.allclose(res.coeffs[n].numpy(), a, rtol=1e-7, atol=1e-9)
        assert res.objective[n].item() == pytest.approx(obj, rel=1e-7, abs=1e-10)
        # seed Eq. 8: d y_hat / d y = E Ebar^t (the pseudo-inverse truncated to 2L columns);
        # the image y axis points down, so y rows and columns change sign
        sw = np.sqrt(np.repeat(vis[n], 2).astype(np.float64))
        jac = e_mat @ np.linalg.pinv(ebar)[:, :34] * sw[None]
        flip = np.tile([1., -1.], 17)
        assert np.allclose(res.jacobian[n].numpy(), flip[:, None] * jac * flip[None],
                           atol=1e-9)
    # the noise settings of the MAP system do not enter the seed's system
    other = PPCAMixtureLifter(one, num_rotations=NUM_ROT, ridge='seed', noise_2d=0.0)
    assert torch.equal(other(torch.tensor(kpts), torch.tensor(vis)).coeffs, res.coeffs)


def test_seed_chart_choice_is_residual_plus_ppca_log_likelihood(prior):
    lifter = PPCAMixtureLifter(prior, num_rotations=NUM_ROT, ridge='seed')
    _, kpts = project_held_out(12, seed=31)
    vis = np.ones((12, 17), dtype=bool)
    res = lifter(torch.tensor(kpts), torch.tensor(vis))
    for n in range(12):
        y, _, _ = _normalise(kpts[n], vis[n])
        scores = []
        for m in range(prior.num_charts):
            best = None
            for ebar, rhs, *_ in _stacked_systems(prior, m, y, vis[n]):
                a = np.linalg.lstsq(ebar, rhs, rcond=None)[0]
                obj = ((ebar @ a - rhs)**2).sum()
                if best is None or obj < best[0]:
                    best = (obj, ebar)
            obj, ebar = best
            sigma = ebar[34:].diagonal()
            # -2 log p(y | chart) at unit noise (Gaussian marginal of y ~ N(p, E L E^T + I)):
            # residual + log det(Ebar^T Ebar) - log det diag(sigma)^2, minus 2 log weight
            _, logdet = np.linalg.slogdet(ebar.T @ ebar)
            scores.append(obj + logdet - 2 * np.log(sigma).sum() -
                          2 * np.log(prior.chart_weights[m]))
        assert res.chart[n].item() == int(np.argmin(scores))


def test_map_and_seed_differ_and_bad_ridge_is_refused(prior):
    _, kpts = project_held_out(3, seed=40)
    x = torch.tensor(kpts)
    seed = PPCAMixtureLifter(prior, num_rotations=NUM_ROT, ridge='seed')(x)
    map_ = PPCAMixtureLifter(prior, num_rotations=NUM_ROT, ridge='map', noise_2d=0.05)(x)
    # the seed's unit noise shrinks the coefficients much more than the MAP noise level
    assert (seed.coeffs[:, 1:].norm(dim=1) < map_.coeffs[:, 1:].norm(dim=1)).all()
    assert 'ridge=seed' in repr(PPCAMixtureLifter(prior, num_rotations=4, ridge='seed'))
    with pytest.raises(ValueError, match="ridge must be one of .*'ridge2'"):
        PPCAMixtureLifter(prior, ridge='ridge2')
