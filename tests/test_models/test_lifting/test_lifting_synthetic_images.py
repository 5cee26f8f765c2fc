"""The synthetic lifting images are not drawn with the lifter's own assumption: perspective,
elevated, rolled, off-axis cameras, and a pose model fitted on another pose stream."""
import json

import numpy as np
import pytest

from lifting_helpers import single_thread  # noqa: F401
from mmssl.datasets.synthetic_camera import CAMERA_TO_MODEL, SyntheticCamera
from mmssl.datasets.synthetic_lifting_images import make_synthetic_lifting_data
from mmssl.datasets.synthetic_pose3d import ACTIVITIES, sample_poses3d


def test_camera_is_a_rigid_pinhole_with_the_asked_elevation_roll_and_placement():
    poses = sample_poses3d(50, seed=0, random_yaw=False)
    cam = SyntheticCamera(elevation_deg=(30., 30.), roll_deg=(0., 0.), off_axis=False)
    v = cam.sample(poses, np.random.default_rng(0))
    rot, t = v['rotation'], v['translation']
    assert np.allclose(np.einsum('nij,nkj->nik', rot, rot), np.eye(3), atol=1e-12)
    assert np.allclose(np.linalg.det(rot), 1)
    assert np.allclose(v['cam'], np.einsum('nij,nlj->nli', rot, poses) + t[:, None])
    # the root on the optical axis at the drawn distance; world up seen from 30 deg above:
    # up in the image (y down) and tilted towards the camera (z forward)
    assert np.allclose(v['cam'][:, 0, :2], 0, atol=1e-9)
    assert ((v['cam'][:, 0, 2] >= 2500) & (v['cam'][:, 0, 2] <= 6000)).all()
    e = np.deg2rad(30)
    assert np.allclose(rot @ [0, 0, 1], [0, -np.cos(e), -np.sin(e)])
    # pinhole projection in the virtual frame
    f, half = cam.focal_length, cam.frame_size / 2
    assert np.allclose(v['frame_xy'], f * v['cam'][..., :2] / v['cam'][..., 2:] + half)
    # roll: world up appears rotated by the roll angle in the image
    rolled = SyntheticCamera(elevation_deg=(0., 0.), roll_deg=(20., 20.), off_axis=False)
    up_img = (rolled.sample(poses[:1], np.random.default_rng(1))['rotation'][0] @ [0, 0, 1])
    assert np.isclose(abs(np.degrees(np.arctan2(up_img[0], -up_img[1]))), 20)
    # off-axis: the root lands anywhere in the frame, not at the principal point
    off = SyntheticCamera().sample(poses, np.random.default_rng(2))
    root_px = off['frame_xy'][:, 0] - half
    assert np.abs(root_px).max() > 100 and (np.abs(root_px) < half).all()
    with pytest.raises(ValueError, match="projection must be 'perspective' or 'orthographic'"):
        SyntheticCamera(projection='fisheye')
    with pytest.raises(ValueError, match='elevation_deg must be a'):
        SyntheticCamera(elevation_deg=(10., -10.))


def _orthographic_residual(ann):
    """Residual (fraction of the 2D height) of the best scaled orthographic (x, up) view of
    the annotation's 3D pose: ~0 exactly when the image is the lifter's own assumption."""
    kpts = np.array(ann['keypoints']).reshape(17, 3)[:, :2]
    kp3d = np.array(ann['keypoints_3d'])
    src = np.stack([kp3d[:, 0], -kp3d[:, 2]], -1)
    src, dst = src - src.mean(0), kpts - kpts.mean(0)
    s = (src * dst).sum() / (src * src).sum()
    return np.linalg.norm(s * src - dst, axis=1).max() / np.ptp(kpts[:, 1])


def test_default_images_are_not_upright_orthographic_views(tmp_path):
    kwargs = dict(num_train=6, num_val=2, img_size=48, num_prior_poses=400, num_bases=10)
    default = make_synthetic_lifting_data(str(tmp_path / 'persp'), **kwargs)
    ortho = make_synthetic_lifting_data(str(tmp_path / 'ortho'),
                                        camera=SyntheticCamera.upright_orthographic(), **kwargs)
    res_d = [_orthographic_residual(a) for a in json.load(open(default['train_ann']))[
        'annotations']]
    res_o = [_orthographic_residual(a) for a in json.load(open(ortho['train_ann']))[
        'annotations']]
    assert max(res_o) < 1e-6
    assert min(res_d) > 0.01  # perspective, elevation and roll: several % of the height
    ann = json.load(open(default['train_ann']))['annotations'][0]
    assert np.allclose(np.array(ann['keypoints_3d'])[0], 0)  # root-relative
    assert CAMERA_TO_MODEL @ [0, -1, 0] @ [0, 0, 1] == 1  # camera up (-y) is the model's up


def test_pose_model_poses_come_from_another_stream_and_can_hold_out_motion(tmp_path):
    paths = make_synthetic_lifting_data(str(tmp_path / 'd'), num_train=2, num_val=1,
                                        img_size=32, num_prior_poses=300, num_bases=8, seed=3,
                                        held_out_activities=['reach'])
    probs = [0. if a == 'reach' else 1. for a in ACTIVITIES]
    assert np.array_equal(np.load(paths['poses3d']),
                          sample_poses3d(300, seed=1003, activity_probs=probs))
    images = json.load(open(paths['train_ann']))['images']
    assert all(img['file_name'].startswith('train_') for img in images)
    with pytest.raises(ValueError, match='held_out_activities must be a strict subset'):
        make_synthetic_lifting_data(str(tmp_path / 'e'), held_out_activities=['dance'])
