"""The kinematic 3D skeleton generator and the synthetic lifting images written from it."""
import json
import os

import numpy as np
import pytest

from mmssl.datasets.synthetic_pose3d import (ACTIVITIES, H36M_PARENTS, JOINT_LIMITS_DEG,
                                             bone_pairs, sample_poses3d, world_to_camera)


def _angle(a, b):
    cos = (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def test_poses_are_deterministic_rooted_and_have_plausible_bones():
    poses = sample_poses3d(2000, seed=4)
    assert poses.shape == (2000, 17, 3)
    assert np.array_equal(poses, sample_poses3d(2000, seed=4))
    assert not np.array_equal(poses, sample_poses3d(2000, seed=5))
    assert np.abs(poses[:, 0]).max() == 0
    lengths = np.stack([np.linalg.norm(poses[:, c] - poses[:, p], axis=-1)
                        for p, c in bone_pairs()], 1)
    # thigh 450 mm x body size [0.9, 1.1] x bone noise (3 %, 4.5 sigma)
    thigh = lengths[:, 1]
    assert thigh.min() > 450 * 0.9 * 0.86 and thigh.max() < 450 * 1.1 * 1.14
    # left and right limbs are equally long
    assert np.allclose(lengths[:, 4], lengths[:, 1]) and np.allclose(lengths[:, 15],
                                                                     lengths[:, 12])


def test_joint_angle_limits_hold():
    poses, act = sample_poses3d(3000, seed=1, return_activity=True)
    lo, hi = JOINT_LIMITS_DEG['knee_flex']
    for hip, knee, foot in ((1, 2, 3), (4, 5, 6)):
        bend = _angle(poses[:, knee] - poses[:, hip], poses[:, foot] - poses[:, knee])
        assert bend.min() >= lo - 1e-6 and bend.max() <= hi + 1e-6
        assert bend.max() > 100  # sitting / crouching people bend their knees
    lo, hi = JOINT_LIMITS_DEG['elbow_flex']
    for sho, elb, wri in ((11, 12, 13), (14, 15, 16)):
        bend = _angle(poses[:, elb] - poses[:, sho], poses[:, wri] - poses[:, elb])
        assert bend.max() <= hi + 1e-6
    # upright activities keep the head above the pelvis; only crouching bends past 90 deg
    upright = act != ACTIVITIES.index('crouch')
    assert (poses[upright, 10, 2] > 300).all() and (poses[~upright, 10, 2] < 300).any()


def test_headings_activities_and_camera_frame():
    poses, act = sample_poses3d(500, seed=2, random_yaw=False, return_activity=True)
    assert set(act.tolist()) == set(range(len(ACTIVITIES)))
    # facing +y without yaw: the right hip is at -x, the left at +x
    assert (poses[:, 1, 0] < 0).all() and (poses[:, 4, 0] > 0).all()
    sitting = poses[act == ACTIVITIES.index('sit')]
    standing = poses[act == ACTIVITIES.index('stand')]
    # sitting thighs point forward, standing ones down
    assert sitting[:, 2, 1].mean() > 250 and abs(standing[:, 2, 1].mean()) < 100
    yawed = sample_poses3d(500, seed=2, random_yaw=True)
    assert np.allclose(yawed[..., 2], poses[..., 2])  # yaw only turns about z
    cam = world_to_camera(yawed, np.zeros(500))
    assert np.allclose(cam, yawed)
    turned = world_to_camera(yawed, np.full(500, np.pi / 2))
    assert np.allclose(turned[..., 0], yawed[..., 1]) and np.allclose(turned[..., 2],
                                                                      yawed[..., 2])
    with pytest.raises(ValueError, match='activity_probs'):
        sample_poses3d(3, activity_probs=[1, 0])
    with pytest.raises(ValueError, match='bone_scale_range'):
        sample_poses3d(3, bone_scale_range=(1.2, 1.0))


def test_synthetic_lifting_images_are_written_atomically_and_consistently(tmp_path):
    from mmssl.datasets.synthetic_lifting_images import make_synthetic_lifting_data
    from mmssl.models.lifting import PosePrior
    out = tmp_path / 'lift'
    from mmssl.datasets.synthetic_camera import SyntheticCamera
    paths = make_synthetic_lifting_data(str(out), num_train=3, num_val=2, img_size=48,
                                        num_prior_poses=400, num_bases=10,
                                        camera=SyntheticCamera.upright_orthographic())
    assert sorted(os.listdir(tmp_path)) == ['lift']  # no temporary folder left
    ann = json.load(open(paths['train_ann']))
    assert len(ann['images']) == 3 and ann['categories'][0]['keypoints'][0] == 'root'
    a = ann['annotations'][0]
    kpts = np.array(a['keypoints']).reshape(17, 3)
    kp3d = np.array(a['keypoints_3d'])
    assert np.allclose(kp3d[0], 0) and (kpts[:, 2] == 2).all()
    # the image landmarks are an orthographic view of the 3D pose (x right, up = -y)
    scale = np.ptp(kpts[:, 1]) / np.ptp(kp3d[:, 2])
    assert np.allclose((kpts[:, 0] - kpts[0, 0]) / scale, kp3d[:, 0], atol=1e-6)
    assert np.allclose(-(kpts[:, 1] - kpts[0, 1]) / scale, kp3d[:, 2], atol=1e-6)
    img_name = ann['images'][0]['file_name']
    assert os.path.isfile(out / 'images' / 'train' / img_name)
    assert img_name.split('_', 1)[1].split('.')[0] in ACTIVITIES  # H36M-like action names
    assert PosePrior.load(paths['prior']).num_bases == 10
    stamp = os.path.getmtime(paths['prior'])
    assert make_synthetic_lifting_data(str(out), num_train=3, num_val=2) == paths
    assert os.path.getmtime(paths['prior']) == stamp  # an existing dataset is kept
    assert np.load(paths['poses3d']).shape == (400, 17, 3)
    assert len(H36M_PARENTS) == 17
