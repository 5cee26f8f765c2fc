"""Human3.6M-style images with 2D and 3D annotations rendered from the synthetic skeleton.

:func:`make_synthetic_lifting_data` writes a small dataset for the lifting CPM config
(``configs/lifting/``): people drawn from :func:`~.synthetic_pose3d.sample_poses3d`, seen by
a :class:`~.synthetic_camera.SyntheticCamera` (by default perspective, elevated, rolled and
off-axis like Human3.6M's cameras, so not the lifter's own upright orthographic assumption)
at a random heading, rendered as coloured limbs (left, right and torso differ) on a textured
background. The pose model is fitted on poses from another generator stream
(``prior_seed``), optionally without some activities (``held_out_activities``). Layout of
``out_dir``::

    images/{train,val}/{split}_{activity}.{index:06d}.png   (Human3.6M-like names: the
                                                             MPJPE metric reads the action)
    annotations/{train,val}.json   COCO keypoints + per-annotation ``keypoints_3d`` (17 x 3,
                                   mm, root-relative, camera frame (x right, depth, up))
    poses3d_train.npy              (N, 17, 3) training poses (mm, world frame, z up)
    pose_prior.npz                 the pose model fitted on them (tools/misc/fit_pose_prior.py)

:class:`LiftingImageDataset` reads such files (or real Human3.6M frames converted to this
COCO-style format) for MMPose's top-down pipeline and adds the 3D targets that
``mmpose.evaluation.MPJPE`` needs.
"""
import json
import os
import os.path as osp
import shutil
import tempfile
from typing import Dict, Optional, Sequence, Union

import cv2
import mmpose
import numpy as np

from mmpose.datasets.datasets.base import BaseCocoStyleDataset
from mmpose.datasets.transforms import PackPoseInputs
from mmpose.registry import DATASETS
from .synthetic_camera import CAMERA_TO_MODEL, SyntheticCamera
from .synthetic_pose3d import (ACTIVITIES, H36M_JOINT_NAMES, H36M_PARENTS, bone_pairs,
                               sample_poses3d)

H36M_METAINFO_FILE = osp.join(osp.dirname(mmpose.__file__), '.mim', 'configs', '_base_',
                              'datasets', 'h36m.py')
_LEFT = {4, 5, 6, 11, 12, 13}
_RIGHT = {1, 2, 3, 14, 15, 16}


def _limb_colour(child: int) -> tuple:
    """BGR colour of the bone ending at ``child``: blue left, red right, green torso."""
    if child in _LEFT:
        return (230, 120, 40)
    if child in _RIGHT:
        return (40, 60, 230)
    return (60, 200, 60)


def render_skeleton_image(keypoints: np.ndarray, size: int, rng: np.random.Generator,
                          thickness: Optional[int] = None) -> np.ndarray:
    """Draw a 17-joint skeleton ``(17, 2)`` (pixels) on a random smooth background (BGR)."""
    low = rng.integers(0, 120, (2, 2, 3)).astype(np.float32)
    img = cv2.resize(low, (size, size), interpolation=cv2.INTER_LINEAR)
    img += rng.normal(0, 8, img.shape).astype(np.float32)
    img = np.clip(img, 0, 255).astype(np.uint8)
    thick = thickness or max(2, size // 40)
    pts = np.round(keypoints * 16).astype(np.int32)  # 4 fractional bits for anti-aliasing
    for parent, child in bone_pairs(H36M_PARENTS):
        cv2.line(img, tuple(pts[parent]), tuple(pts[child]), _limb_colour(child), thick,
                 cv2.LINE_AA, shift=4)
    for j in range(len(pts)):
        cv2.circle(img, tuple(pts[j]), thick, (240, 240, 240), -1, cv2.LINE_AA, shift=4)
    return img


def _annotations(split: str, num: int, img_size: int, seed: int, img_dir: str,
                 camera: SyntheticCamera) -> dict:
    rng = np.random.default_rng(seed)
    poses, act = sample_poses3d(num, seed=seed, random_yaw=False, return_activity=True)
    views = camera.sample(poses, rng)
    frame_kpts = camera.crop(views['frame_xy'], img_size, rng)
    # 3D target: the camera frame (x right, y down, z forward) as (x right, depth, up), mm
    cam = np.einsum('ij,nlj->nli', CAMERA_TO_MODEL, views['cam'])
    images, anns = [], []
    for i in range(num):
        kpts = frame_kpts[i]
        name = f'{split}_{ACTIVITIES[act[i]]}.{i:06d}.png'
        cv2.imwrite(osp.join(img_dir, name), render_skeleton_image(kpts, img_size, rng))
        lo, hi = kpts.min(0), kpts.max(0)
        pad = 0.1 * (hi - lo)
        x0, y0 = np.clip(lo - pad, 0, img_size - 1)
        x1, y1 = np.clip(hi + pad, 0, img_size - 1)
        images.append(dict(id=i, file_name=name, width=img_size, height=img_size))
        anns.append(dict(
            id=i, image_id=i, category_id=1, iscrowd=0, num_keypoints=17,
            bbox=[float(x0), float(y0), float(x1 - x0), float(y1 - y0)],
            area=float((x1 - x0) * (y1 - y0)),
            keypoints=np.concatenate([kpts, np.full((17, 1), 2.)], 1).reshape(-1).tolist(),
            keypoints_3d=(cam[i] - cam[i, :1]).tolist()))
    return dict(images=images, annotations=anns, categories=[dict(
        id=1, name='person', supercategory='person', keypoints=list(H36M_JOINT_NAMES),
        skeleton=[[p, c] for p, c in bone_pairs(H36M_PARENTS)])])


def make_synthetic_lifting_data(out_dir: str,
                                num_train: int = 256,
                                num_val: int = 64,
                                img_size: int = 128,
                                num_prior_poses: int = 5000,
                                num_charts: int = 3,
                                num_bases: int = 25,
                                seed: int = 0,
                                overwrite: bool = False,
                                camera: Union[SyntheticCamera, dict, None] = None,
                                held_out_activities: Sequence[str] = (),
                                prior_seed: Optional[int] = None) -> Dict[str, str]:
    """Write the synthetic lifting dataset (see the module docstring) atomically.

    Args:
        out_dir: Folder to write. num_train, num_val: Images per split.
        img_size: Square image side (px). num_prior_poses: 3D poses the model is fitted on.
        num_charts, num_bases: Size of the fitted pose model.
        seed: Seed of the training images (validation: ``seed + 1``).
        overwrite: Replace an existing complete dataset.
        camera: :class:`~.synthetic_camera.SyntheticCamera` (or its keyword arguments);
            default: perspective, elevated, rolled, off-axis Human3.6M-like cameras.
            ``SyntheticCamera.upright_orthographic()`` is the lifter's own assumption.
        held_out_activities: Activities (of :data:`~.synthetic_pose3d.ACTIVITIES`) that the
            images show but the pose model is not fitted on (motion the prior never saw).
        prior_seed: Generator seed of the pose-model poses; default ``seed + 1000``, a
            stream separate from the images' poses.

    Everything is written into a temporary sibling folder that replaces ``out_dir`` at the
    end, so an interrupted run never leaves a half-written dataset. An existing complete
    ``out_dir`` is kept unless ``overwrite``.

    Returns:
        dict: paths of ``train_ann``, ``val_ann``, ``poses3d`` and ``prior``.
    """
    from mmssl.models.lifting import fit_pose_prior  # models import datasets, not vice versa
    out_dir = osp.abspath(out_dir)
    paths = dict(train_ann=osp.join(out_dir, 'annotations', 'train.json'),
                 val_ann=osp.join(out_dir, 'annotations', 'val.json'),
                 poses3d=osp.join(out_dir, 'poses3d_train.npy'),
                 prior=osp.join(out_dir, 'pose_prior.npz'))
    if all(osp.isfile(p) for p in paths.values()) and not overwrite:
        return paths
    if img_size < 32:
        raise ValueError(f'img_size must be >= 32, got {img_size}')
    if camera is None:
        camera = SyntheticCamera()
    elif isinstance(camera, dict):
        camera = SyntheticCamera(**camera)
    unknown = [a for a in held_out_activities if a not in ACTIVITIES]
    if unknown or len(set(held_out_activities)) == len(ACTIVITIES):
        raise ValueError(f'held_out_activities must be a strict subset of {ACTIVITIES}, got '
                         f'{list(held_out_activities)}')
    prior_probs = [0. if a in held_out_activities else 1. for a in ACTIVITIES]
    prior_seed = seed + 1000 if prior_seed is None else prior_seed
    parent = osp.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=parent, prefix='.tmp_' + osp.basename(out_dir))
    try:
        os.makedirs(osp.join(tmp, 'annotations'))
        for split, num, split_seed in (('train', num_train, seed), ('val', num_val, seed + 1)):
            img_dir = osp.join(tmp, 'images', split)
            os.makedirs(img_dir)
            with open(osp.join(tmp, 'annotations', f'{split}.json'), 'w') as f:
                json.dump(_annotations(split, num, img_size, split_seed, img_dir, camera), f)
        poses = sample_poses3d(num_prior_poses, seed=prior_seed, activity_probs=prior_probs)
        np.save(osp.join(tmp, 'poses3d_train.npy'), poses)
        fit_pose_prior(poses, H36M_PARENTS, num_charts=num_charts, num_bases=num_bases,
                       seed=seed, joint_names=H36M_JOINT_NAMES).save(
                           osp.join(tmp, 'pose_prior.npz'))
        if osp.exists(out_dir):
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    finally:
        if osp.exists(tmp):
            shutil.rmtree(tmp)
    return paths


@DATASETS.register_module()
class LiftingImageDataset(BaseCocoStyleDataset):
    """Top-down COCO-style images with Human3.6M joints and a 3D pose per annotation.

    Each annotation needs ``keypoints_3d`` (``K x 3``, mm). The sample gets
    ``lifting_target`` (root-relative, ``(1, K, 3)``), ``lifting_target_visible`` and
    ``target_img_path``, and an ``instance_mapping_table`` so that ``PackPoseInputs`` puts the
    3D target into ``gt_instances`` (add ``'target_img_path'`` to its ``meta_keys``). The 3D
    target is not transformed by augmentations: use it for evaluation only.

    Args:
        root_index: Joint the 3D target is relative to (the pelvis).
        **kwargs: Arguments of :class:`BaseCocoStyleDataset`.
    """
    METAINFO: dict = dict(from_file=H36M_METAINFO_FILE)

    def __init__(self, *args, root_index: int = 0, **kwargs) -> None:
        self.root_index = root_index
        super().__init__(*args, **kwargs)

    def parse_data_info(self, raw_data_info: dict) -> Optional[dict]:
        info = super().parse_data_info(raw_data_info)
        if info is None:
            return None
        ann = raw_data_info['raw_ann_info']
        if 'keypoints_3d' not in ann:
            raise ValueError(f'annotation {ann.get("id")} in {self.ann_file} has no '
                             f"'keypoints_3d' (needed by {type(self).__name__})")
        kp3d = np.asarray(ann['keypoints_3d'], dtype=np.float32).reshape(1, -1, 3)
        num = info['keypoints'].shape[1]
        if kp3d.shape[1] != num:
            raise ValueError(f'annotation {ann.get("id")} in {self.ann_file}: keypoints_3d '
                             f'has {kp3d.shape[1]} joints, keypoints {num}')
        info['lifting_target'] = kp3d - kp3d[:, self.root_index:self.root_index + 1]
        info['lifting_target_visible'] = np.ones((1, num), dtype=np.float32)
        info['target_img_path'] = [info['img_path']]
        info['instance_mapping_table'] = dict(
            PackPoseInputs.instance_mapping_table, lifting_target='lifting_target',
            lifting_target_visible='lifting_target_visible')
        return info
