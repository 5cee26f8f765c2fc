"""Batched lifting: exact recovery, agreement with the per-pose loop, 3D error end to end."""
import dataclasses

import numpy as np
import pytest
import torch
from mmpose.evaluation.functional import keypoint_mpjpe

from lifting_helpers import lifter, prior, project_held_out, single_thread  # noqa: F401
from mmssl.models.lifting import PPCAMixtureLifter, lift_reference

DEVICES = ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])


def _in_span_pose(prior, chart, rng):
    """A centred pose of the chart's span (height-scaled units), coefficients ~ the prior."""
    h = prior.height_scale
    coef = rng.standard_normal(prior.num_bases) / prior.inv_std[chart]
    return h * (1.1 * prior.mu[chart] + np.einsum('j,jcl->cl', coef, prior.e[chart]))


def _rotate_project(pose, angle, scale=150., offset=(60., 90.)):
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    cam = rot @ pose  # (3, L)
    return cam, np.stack([cam[0], -cam[2]], -1) * scale + np.asarray(offset)


@pytest.mark.parametrize('device', DEVICES)
def test_noise_free_projection_in_span_is_lifted_back_exactly(prior, device):
    # With a negligible noise term the ridge bias vanishes: exact pose, rotation and chart.
    exact = dataclasses.replace(prior, sigma=np.concatenate(
        [prior.inv_std, np.full((3, 1), 1e-7)], 1))
    lifter = PPCAMixtureLifter(exact, num_rotations=100).to(device)
    rng = np.random.default_rng(0)
    cases = [(1, 37), (0, 0), (2, 81), (1, 50)]
    poses, kpts = [], []
    for chart, rot in cases:
        cam, pts = _rotate_project(_in_span_pose(prior, chart, rng), 2 * np.pi * rot / 100)
        poses.append(cam.T * 2 / (cam[2].max() - cam[2].min()))  # normalised: height 2
        kpts.append(pts)
    res = lifter(torch.tensor(np.stack(kpts), device=device))
    assert res.valid.all()
    assert res.rotation.tolist() == [r for _, r in cases]
    assert res.chart.tolist() == [c for c, _ in cases]
    assert np.abs(res.poses_3d_normalised.cpu().numpy() - np.stack(poses)).max() < 1e-5
    assert np.abs(res.keypoints_2d.cpu().numpy() - np.stack(kpts)).max() < 1e-4


def test_with_the_model_noise_the_result_is_the_closed_form_ridge_solution(prior, lifter):
    # The seed's Eq. 6 built independently: a = [(y - p), 0] Ebar^+ for the chosen R.
    rng = np.random.default_rng(1)
    cam, pts = _rotate_project(_in_span_pose(prior, 0, rng), 2 * np.pi * 12 / 100)
    res = lifter(torch.tensor(pts[None]))
    # the prior term may prefer a neighbouring discrete rotation
    assert abs(res.rotation.item() - 12) <= 1 and res.chart.item() == 0
    h, m = prior.height_scale, 0
    theta = 2 * np.pi * res.rotation.item() / 100
    c, s = np.cos(theta), np.sin(theta)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    basis = h * np.concatenate([prior.mu[m][None], prior.e[m]])  # (J+1, 3, L)
    e_mat = np.stack([(rot @ b)[[0, 2]].T.reshape(-1) for b in basis], 1)
    p = e_mat[:, 0]
    noise = np.sqrt((h * prior.noise_std[m])**2 + 0.02**2)
    ridge = noise * np.r_[1 / prior.scale_std, prior.inv_std[m]]
    y = (pts - pts.mean(0)) / ((pts[:, 1].max() - pts[:, 1].min()) / 2) * [1, -1]
    ebar = np.concatenate([e_mat, np.diag(ridge)])
    a = np.linalg.pinv(ebar) @ np.r_[y.reshape(-1) - p, np.zeros(len(ridge))]
    assert np.allclose(res.coeffs[0].numpy(), a, atol=1e-9)
    # the ridge bias is small but not zero for a pose of the span
    err = np.abs(res.poses_3d_normalised[0].numpy() - cam.T * 2 / (cam[2].ptp())).max()
    assert 1e-6 < err < 0.3


@pytest.mark.parametrize('device', DEVICES)
def test_batched_solver_matches_the_per_pose_lstsq_loop(lifter, device):
    _, kpts = project_held_out(24, seed=5)
    vis = np.random.default_rng(2).random((24, 17)) > 0.25
    vis[:8] = True  # fast path (precomputed pseudo-inverses) and weighted path
    vis[8] = False  # cannot be lifted
    ref = lift_reference(kpts, vis, lifter)
    lifter = lifter.to(device)
    res = lifter(torch.tensor(kpts, device=device), torch.tensor(vis, device=device))
    ok = res.valid.cpu().numpy()
    assert ok.tolist() == (ref['chart'] >= 0).tolist() and not ok[8] and ok.sum() == 23
    assert (res.chart.cpu().numpy()[ok] == ref['chart'][ok]).all()
    assert (res.rotation.cpu().numpy()[ok] == ref['rotation'][ok]).all()
    for key, tol in (('coeffs', 1e-9), ('keypoints_2d', 1e-8), ('poses_3d_normalised', 1e-9)):
        assert np.abs(getattr(res, key).cpu().numpy()[ok] - ref[key][ok]).max() < tol, key
    res32 = lifter(torch.tensor(kpts, device=device).float(), torch.tensor(vis, device=device))
    assert res32.keypoints_2d.dtype == torch.float32
    assert (res32.rotation == res.rotation).all() and (res32.chart == res.chart).all()
    assert (res32.keypoints_2d.double() - res.keypoints_2d).abs().max() < 1e-2  # px
    lifter.cpu()


def test_fit_on_generated_poses_lifts_held_out_projections(lifter):
    # Part 5 end to end: model fitted on generated poses; held-out poses at random headings.
    cam, kpts = project_held_out(300, seed=11)
    res = lifter(torch.tensor(kpts))
    pred = res.poses_3d.numpy()
    mask = np.ones(cam.shape[:2], dtype=bool)
    mpjpe = keypoint_mpjpe(pred, cam, mask, 'none')
    pa_mpjpe = keypoint_mpjpe(pred, cam, mask, 'procrustes')
    # depth-less baseline: the 2D pose in mm with zero depth
    flat = cam.copy()
    flat[..., 1] = 0
    baseline = keypoint_mpjpe(flat, cam, mask, 'none')
    print(f'held-out MPJPE {mpjpe:.1f} mm, PA-MPJPE {pa_mpjpe:.1f} mm, depth-less {baseline:.1f}')
    assert mpjpe < 90 and pa_mpjpe < 65 and mpjpe < 0.6 * baseline
    assert np.abs(res.keypoints_2d.numpy() - kpts).mean() < 3  # px, people ~340 px tall


def test_invalid_rows_and_bad_inputs(lifter):
    _, kpts = project_held_out(3, seed=2)
    vis = np.ones((3, 17), dtype=bool)
    vis[1, 3:] = False  # 3 visible joints < min_visible? (default 3: still valid)
    vis[2, 2:] = False  # 2 visible: invalid
    res = lifter(torch.tensor(kpts), torch.tensor(vis))
    assert res.valid.tolist() == [True, True, False]
    assert torch.equal(res.keypoints_2d[2], torch.tensor(kpts[2]))  # passed through
    assert torch.isfinite(res.poses_3d).all()
    empty = lifter(torch.zeros(0, 17, 2), return_jacobian=True)  # an empty batch is fine
    assert empty.poses_3d.shape == (0, 17, 3) and empty.jacobian.shape == (0, 34, 34)
    with pytest.raises(ValueError, match=r'keypoints must be \(N, 17, 2\)'):
        lifter(torch.zeros(2, 16, 2))
    with pytest.raises(TypeError, match='floating point'):
        lifter(torch.zeros(2, 17, 2, dtype=torch.long))
    with pytest.raises(ValueError, match='visible must be'):
        lifter(torch.zeros(2, 17, 2), torch.ones(2, 16, dtype=torch.bool))


def test_checkpoint_refuses_a_different_pose_model(prior, lifter):
    state = lifter.state_dict()
    assert set(state) == {'prior_mu', 'prior_e', 'prior_sigma'}
    same = PPCAMixtureLifter(prior)
    same.load_state_dict(state)
    other = PPCAMixtureLifter(dataclasses.replace(prior, mu=prior.mu * 1.01))
    with pytest.raises(ValueError, match='different pose model'):
        other.load_state_dict(state)
