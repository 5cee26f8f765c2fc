"""The pose model: fitting (alignment + PPCA), the file format and its checks, the tool."""
import importlib.util
import os

import numpy as np
import pytest

from lifting_helpers import prior, single_thread  # noqa: F401  (fixtures)
from mmssl.datasets.synthetic_pose3d import H36M_PARENTS, sample_poses3d
from mmssl.models.lifting import (FORMAT_VERSION, PosePrior, PosePriorError, align_about_up,
                                  bone_lengths_rss, model_frame_matrix, normalise_poses3d)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def test_model_frame_matrix_is_a_rotation_taking_up_to_up():
    for axis in ('x', 'y', 'z', '-x', '-y', '-z'):
        mat = model_frame_matrix(axis)
        assert np.allclose(mat @ mat.T, np.eye(3)) and np.isclose(np.linalg.det(mat), 1)
        up = np.zeros(3)
        up['xyz'.index(axis[-1])] = -1. if axis.startswith('-') else 1.
        assert np.allclose(mat @ up, [0, 0, 1])
    with pytest.raises(ValueError, match='up_axis'):
        model_frame_matrix('w')


def test_align_about_up_recovers_a_known_rotation():
    poses, _ = normalise_poses3d(sample_poses3d(5, seed=3, random_yaw=False), H36M_PARENTS)
    theta = np.array([0.3, -1.0, 2.5, 3.0, -2.9])
    c, s = np.cos(theta)[:, None], np.sin(theta)[:, None]
    turned = poses.copy()
    turned[:, 0] = c * poses[:, 0] - s * poses[:, 1]
    turned[:, 1] = s * poses[:, 0] + c * poses[:, 1]
    aligned, angle = align_about_up(turned, poses)
    assert np.allclose(aligned, poses, atol=1e-12)
    assert np.allclose(np.angle(np.exp(1j * (angle + theta))), 0, atol=1e-12)


def test_fitted_model_is_normalised_orthonormal_and_shrunk(prior):
    assert prior.mu.shape == (3, 3, 17) and prior.e.shape == (3, 25, 3, 17)
    assert prior.sigma.shape == (3, 26) and np.isclose(prior.chart_weights.sum(), 1)
    # means are centred and (close to) bone-normalised; the scale is the poses' bone RSS
    assert np.allclose(prior.mu.mean(-1), 0, atol=1e-9)
    rss = bone_lengths_rss(prior.mu.transpose(0, 2, 1), H36M_PARENTS)
    assert np.all((rss > 0.8) & (rss <= 1.0 + 1e-9))  # a mean of unit-RSS poses
    assert 900 < prior.scale_mm < 1400
    # PPCA: coefficient std (lambda - s2)^1/2 decreases along the bases; noise below all
    std = 1 / prior.inv_std
    assert np.all(np.diff(std, axis=1) <= 1e-12)
    assert np.all(prior.noise_std < std[:, -1])
    # every basis is a direction of the centred pose space (no translation component)
    assert np.allclose(prior.e.sum(-1), 0, atol=1e-8)


def test_save_load_round_trip_is_atomic(prior, tmp_path):
    path = tmp_path / 'sub' / 'prior.npz'
    prior.save(path)
    assert sorted(os.listdir(path.parent)) == ['prior.npz']  # no temporary left behind
    loaded = PosePrior.load(path)
    for name in ('mu', 'e', 'sigma', 'chart_weights', 'parents'):
        assert np.array_equal(getattr(loaded, name), getattr(prior, name)), name
    for name in ('scale_mm', 'height_scale', 'scale_std', 'joint_names'):
        assert getattr(loaded, name) == getattr(prior, name), name
    with np.load(path, allow_pickle=False) as data:
        assert int(data['format_version']) == FORMAT_VERSION


def _write(path, prior, **changes):
    arrays = dict(format_version=FORMAT_VERSION, mu=prior.mu, e=prior.e, sigma=prior.sigma,
                  chart_weights=prior.chart_weights, parents=prior.parents,
                  scale_mm=prior.scale_mm, height_scale=prior.height_scale,
                  scale_std=prior.scale_std)
    arrays.update(changes)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})


@pytest.mark.parametrize('change, message', [
    (lambda p: dict(e=p.e[:, :, :, :16]), r'e must have shape \(M=3, J, 3, L=17\)'),
    (lambda p: dict(mu=p.mu[:, :2]), r'mu must have shape \(M, 3, L\)'),
    (lambda p: dict(sigma=p.sigma[:, :-1]), r'sigma must have shape \(M=3, J\+1=26\)'),
    (lambda p: dict(sigma=-p.sigma), 'sigma must be positive'),
    (lambda p: dict(chart_weights=p.chart_weights[:2]), 'chart_weights must have shape'),
    (lambda p: dict(e=2 * p.e), 'orthonormal'),
    (lambda p: dict(parents=np.r_[-1, 2, 1, np.array(H36M_PARENTS[3:])]), 'cycle'),
    (lambda p: dict(parents=np.full(17, -1)), 'exactly one root'),
    (lambda p: dict(mu=np.where(np.arange(17) == 3, np.nan, p.mu)), 'NaN'),
    (lambda p: dict(scale_mm=-1.), 'scale_mm must be a positive'),
    (lambda p: dict(sigma=None), r"missing arrays \['sigma'\]"),
    (lambda p: dict(format_version=99), 'format_version 99'),
])
def test_inconsistent_model_file_is_refused_with_a_clear_error(prior, tmp_path, change,
                                                               message):
    path = tmp_path / 'bad.npz'
    _write(path, prior, **change(prior))
    with pytest.raises(PosePriorError, match=message) as info:
        PosePrior.load(path)
    assert str(path) in str(info.value)


def test_missing_or_foreign_file_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match='fit_pose_prior'):
        PosePrior.load(tmp_path / 'none.npz')
    junk = tmp_path / 'junk.npz'
    junk.write_text('not a zip')
    with pytest.raises(PosePriorError, match='cannot read pose model .*junk.npz'):
        PosePrior.load(junk)


def test_fit_refuses_too_few_poses_or_bases():
    poses = sample_poses3d(40, seed=0)
    with pytest.raises(PosePriorError, match='cannot fit 3 charts'):
        from mmssl.models.lifting import fit_pose_prior
        fit_pose_prior(poses, H36M_PARENTS, num_charts=3, num_bases=25)
    with pytest.raises(PosePriorError, match='num_bases must be in'):
        fit_pose_prior(poses, H36M_PARENTS, num_charts=1, num_bases=48)


def _tool(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(REPO, 'tools', 'misc',
                                                                     f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fit_tool_writes_model_and_reports_held_out_error(tmp_path):
    train, test = tmp_path / 'train.npy', tmp_path / 'test.npy'
    make = _tool('make_synthetic_pose3d')
    for path, num, seed in ((train, 3000, 0), (test, 300, 1)):
        make.main([str(path), '--num', str(num), '--seed', str(seed)])
    assert np.load(train).shape == (3000, 17, 3)
    tool = _tool('fit_pose_prior')
    out = tmp_path / 'prior.npz'
    png = tmp_path / 'lifted.png'
    metrics = tool.main([str(train), str(out), '--iters', '5', '--eval-poses', str(test),
                         '--plot', str(png)])
    assert PosePrior.load(out).num_charts == 3
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    # lifted from exact 2D at unknown headings: the seed's model reaches tens of mm here
    assert metrics['mpjpe'] < 90 and metrics['pa_mpjpe'] < 65, metrics
    with pytest.raises(ValueError, match='--parents lists 3 joints'):
        tool.main([str(train), str(out), '--parents=-1,0,1'])
    flat = tmp_path / 'flat.npy'
    np.save(flat, np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r'flat.npy: poses must have shape \(N, L, 3\)'):
        tool.main([str(flat), str(out)])
