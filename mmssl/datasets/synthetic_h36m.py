"""A small Human3.6M look-alike in MMPose's preprocessed format, drawn by the synthetic renderer.

No Human3.6M data ships with the project; the converter (:mod:`.h36m_lifting`) and the
Human3.6M lifting config are tested on this instead. The layout and arrays are those of
``mmpose/tests/data/h36m`` (see :mod:`.h36m_lifting`): four cameras per subject around the
capture area (Human3.6M camera ids), ``cameras.pkl`` with ``R``/``T`` mapping camera to world
(metres), ``h36m_train.npz`` (S1 S5 S6 S7 S8) and ``h36m_test.npz`` (S9 S11) with
``imgname``, ``center``, ``scale``, ``part`` and ``S``, and JPEG frames under ``images/``.
Frames are small (``frame_size`` px) with the focal length scaled to Human3.6M's field of
view; distortion coefficients are zero.
"""
import os
import os.path as osp
import pickle
import shutil
import tempfile
from typing import Dict, Sequence

import cv2
import numpy as np

from .h36m_lifting import TEST_SUBJECTS, TRAIN_SUBJECTS
from .synthetic_camera import SyntheticCamera
from .synthetic_lifting_images import render_skeleton_image
from .synthetic_pose3d import ACTIVITIES, sample_poses3d

CAMERA_IDS = ('54138969', '55011271', '58860488', '60457274')
_ACTION_NAMES = dict(stand='Directions', walk='Walking', sit='Sitting', crouch='SittingDown',
                     reach='Greeting')


def make_synthetic_h36m(out_dir: str,
                        frames_per_subject: int = 2,
                        frame_size: int = 160,
                        subjects: Sequence[str] = TRAIN_SUBJECTS + TEST_SUBJECTS,
                        seed: int = 0) -> Dict[str, str]:
    """Write the look-alike atomically (a temporary sibling folder renamed at the end).

    Returns:
        dict: ``cameras``, ``train_npz``, ``test_npz`` and ``images`` paths.
    """
    out_dir = osp.abspath(out_dir)
    ann = osp.join(out_dir, 'annotation_body3d')
    paths = dict(cameras=osp.join(ann, 'cameras.pkl'),
                 train_npz=osp.join(ann, 'fps10', 'h36m_train.npz'),
                 test_npz=osp.join(ann, 'fps10', 'h36m_test.npz'),
                 images=osp.join(out_dir, 'images'))
    if all(osp.exists(p) for p in paths.values()):
        return paths
    rng = np.random.default_rng(seed)
    focal = 1145. * frame_size / 1000.
    camera = SyntheticCamera(focal_length=focal, frame_size=frame_size,
                             distance_mm=(4000., 5500.), elevation_deg=(5., 15.),
                             roll_deg=(-2., 2.))
    parent = osp.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=parent, prefix='.tmp_' + osp.basename(out_dir))
    try:
        cams, splits = {}, dict(train={k: [] for k in ('imgname', 'center', 'scale', 'part',
                                                        'S')},
                                test={k: [] for k in ('imgname', 'center', 'scale', 'part',
                                                       'S')})
        for s_idx, subject in enumerate(subjects):
            poses, act = sample_poses3d(frames_per_subject, seed=seed * 100 + s_idx,
                                        random_yaw=True, return_activity=True)
            lift = np.array([0., 0., 950.])  # world: the root above the floor (mm)
            for cam_id in CAMERA_IDS:
                view = camera.sample(poses[:1] * 0, rng)  # one fixed camera per (subject, id)
                rot, trans = view['rotation'][0], view['translation'][0]  # world -> camera
                centre = -rot.T @ trans + lift  # camera centre in the lifted world (mm)
                cams[(subject, cam_id)] = dict(
                    R=rot.T, T=(centre / 1000.)[:, None], f=np.full((2, 1), focal),
                    c=np.full((2, 1), frame_size / 2.), k=np.zeros((3, 1)), p=np.zeros((2, 1)),
                    w=frame_size, h=frame_size, name=f'camera{CAMERA_IDS.index(cam_id) + 1}',
                    id=cam_id)
                cam_xyz = np.einsum('ij,nlj->nli', rot, poses) + trans  # mm, = R^T (X_w - C)
                uv = focal * cam_xyz[..., :2] / cam_xyz[..., 2:] + frame_size / 2.
                split = 'train' if subject in TRAIN_SUBJECTS else 'test'
                for i in range(frames_per_subject):
                    action = _ACTION_NAMES[ACTIVITIES[act[i]]]
                    seq = f'{subject}_{action}.{cam_id}'
                    name = f'{subject}/{seq}/{seq}_{i + 1:06d}.jpg'
                    img_path = osp.join(tmp, 'images', name)
                    os.makedirs(osp.dirname(img_path), exist_ok=True)
                    img = render_skeleton_image(uv[i], frame_size, rng)
                    cv2.imwrite(img_path, img)
                    lo, hi = uv[i].min(0), uv[i].max(0)
                    rec = splits[split]
                    rec['imgname'].append(name)
                    rec['center'].append((lo + hi) / 2)
                    rec['scale'].append(1.2 * (hi - lo).max() / 200)
                    rec['part'].append(np.concatenate([uv[i], np.ones((17, 1))], 1))
                    rec['S'].append(np.concatenate([cam_xyz[i] / 1000., np.ones((17, 1))], 1))
        os.makedirs(osp.join(tmp, 'annotation_body3d', 'fps10'))
        with open(osp.join(tmp, 'annotation_body3d', 'cameras.pkl'), 'wb') as f:
            pickle.dump(cams, f)
        for split, rec in splits.items():
            if rec['imgname']:
                np.savez(osp.join(tmp, 'annotation_body3d', 'fps10', f'h36m_{split}.npz'),
                         **{k: np.asarray(v) for k, v in rec.items()})
        if osp.exists(out_dir):
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    finally:
        if osp.exists(tmp):
            shutil.rmtree(tmp)
    return paths
