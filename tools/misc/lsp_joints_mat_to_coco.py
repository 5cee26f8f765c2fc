"""Convert Leeds Sports Pose ``joints.mat`` files into the COCO-format files of the LSP configs.

Reads the official archives, each a folder with ``joints.mat`` and ``images/``:

* LSP (``lsp_dataset``): 2000 images ``im0001.jpg`` ...; ``joints`` is 3 x 14 x 2000
  (x, y, flag) with the flag inverted: **0 = visible**, 1 = occluded;
* LSP-extended (``lspet_dataset``): 10000 images ``im00001.jpg`` ...; ``joints`` is
  14 x 3 x 10000 with **1 = visible**.

Writes ``lsp_train.json`` (the first 1000 LSP images + all of LSP-extended, 11000 persons)
and ``lsp_test.json`` (the last 1000 LSP images), what
``configs/adversarial_aug/_base_/adv-aug_hourglass52_lsp-256x256.py`` reads with
``CocoDataset`` and the metainfo ``configs/adversarial_aug/_base_/datasets/lsp.py``:

* one person per image; keypoints ``[x, y, v]`` in the metainfo's order (LSP's order with
  two pairs swapped so that joints 4/5 are the torso mmpose's ``PCKAccuracy(norm_item=
  'torso')`` measures, see :data:`FILE_ORDER`); v = 2 visible, 1 occluded (labelled: LSP
  annotates occluded joints, and they are trained on and evaluated), 0 = no usable location
  (outside the image or not finite; written as 0, 0, 0);
* ``bbox`` = the labelled joints' extent enlarged by ``--margin`` of its size on every side,
  clipped to the image (the pipeline's ``GetBBoxCenterScale`` pads it a further 1.25x);
* image ``width``/``height`` read from the image files (headers only);
* ``file_name`` relative to ``--image-root`` (the configs' ``data_prefix``).

Example (the configs' layout)::

    data/lsp/images/lsp_dataset/{joints.mat,images/}
    data/lsp/images/lspet_dataset/{joints.mat,images/}
    python tools/misc/lsp_joints_mat_to_coco.py --lsp data/lsp/images/lsp_dataset \\
        --lspet data/lsp/images/lspet_dataset --image-root data/lsp/images \\
        --out-dir data/lsp/annotations
"""
import argparse
import json
import os
import os.path as osp
from typing import List, Optional, Tuple

import numpy as np

#: LSP's joints.mat order (Johnson & Everingham's README)
LSP_JOINTS = ('right_ankle', 'right_knee', 'right_hip', 'left_hip', 'left_knee', 'left_ankle',
              'right_wrist', 'right_elbow', 'right_shoulder', 'left_shoulder', 'left_elbow',
              'left_wrist', 'neck', 'head_top')
#: file keypoint i = LSP joint FILE_ORDER[i] (the order of configs/.../datasets/lsp.py)
FILE_ORDER = (0, 1, 5, 3, 9, 2, 6, 7, 8, 4, 10, 11, 12, 13)
LAYOUTS = {
    # name: (axes of joints.mat as (coordinate axis, joint axis), image name, visible flag)
    'lsp': ((0, 1), 'im{:04d}.jpg', 0),
    'lspet': ((1, 0), 'im{:05d}.jpg', 1),
}


def load_joints(mat_file: str, kind: str) -> np.ndarray:
    """``[N, 14, 3]`` (x, y, visible as bool 0/1) from an LSP or LSP-extended joints.mat."""
    from scipy.io import loadmat
    if kind not in LAYOUTS:
        raise ValueError(f'kind must be one of {sorted(LAYOUTS)}, got {kind!r}')
    try:
        data = loadmat(mat_file)
    except Exception as err:  # scipy raises several types for unreadable files
        raise ValueError(f'{mat_file}: not a readable .mat file ({err})') from err
    if 'joints' not in data:
        raise KeyError(f'{mat_file}: no variable "joints" (found '
                       f'{sorted(k for k in data if not k.startswith("__"))})')
    joints = np.asarray(data['joints'], dtype=np.float64)
    (coord_axis, joint_axis), _, visible_flag = LAYOUTS[kind]
    expected = ['?', '?', 'N']
    expected[coord_axis], expected[joint_axis] = '3', '14'
    if joints.ndim != 3 or joints.shape[coord_axis] != 3 or joints.shape[joint_axis] != 14:
        other = 'lspet' if kind == 'lsp' else 'lsp'
        raise ValueError(
            f'{mat_file}: joints must be {" x ".join(expected)} for --{kind} '
            f'(x, y, flag{" 0 = visible" if kind == "lsp" else " 1 = visible"}), got '
            f'{" x ".join(map(str, joints.shape))}; is this a --{other} file?')
    joints = np.transpose(joints, (2, joint_axis, coord_axis))  # [N, 14, 3]
    flags = joints[..., 2]
    if not np.isin(flags, (0, 1)).all():
        raise ValueError(f'{mat_file}: visibility flags must be 0 or 1, got '
                         f'{sorted(set(np.unique(flags).tolist()))[:5]}')
    joints[..., 2] = (flags == visible_flag).astype(np.float64)
    return joints


def image_size(path: str) -> Tuple[int, int]:
    from PIL import Image
    if not osp.isfile(path):
        raise FileNotFoundError(f'image {path} is missing (joints.mat has a person for it)')
    with Image.open(path) as img:
        return img.size  # (width, height), read from the header


def person_annotation(joints: np.ndarray, width: int, height: int,
                      margin: float) -> Optional[dict]:
    """COCO keypoints/bbox fields of one person (``joints`` [14, 3] in LSP order), or
    None when no joint has a usable location."""
    xy, visible = joints[:, :2], joints[:, 2] > 0
    usable = np.isfinite(xy).all(1) & (xy[:, 0] >= 0) & (xy[:, 1] >= 0) & \
        (xy[:, 0] < width) & (xy[:, 1] < height)
    if not usable.any():
        return None
    keypoints = []
    for j in FILE_ORDER:
        if usable[j]:
            keypoints += [float(xy[j, 0]), float(xy[j, 1]), 2 if visible[j] else 1]
        else:
            keypoints += [0., 0., 0]
    lo, hi = xy[usable].min(0), xy[usable].max(0)
    pad = (hi - lo) * margin
    x1, y1 = np.maximum(lo - pad, 0)
    x2, y2 = np.minimum(hi + pad, [width - 1, height - 1])
    w, h = float(x2 - x1), float(y2 - y1)
    return dict(keypoints=keypoints, num_keypoints=int(usable.sum()),
                bbox=[float(x1), float(y1), w, h], area=w * h, iscrowd=0, category_id=1)


def convert(folder: str, kind: str, image_root: str, margin: float,
            start_id: int = 1) -> Tuple[List[dict], List[dict]]:
    """(images, annotations) of one archive folder, in joints.mat order."""
    mat_file = osp.join(folder, 'joints.mat')
    if not osp.isfile(mat_file):
        raise FileNotFoundError(f'{mat_file} does not exist (--{kind} must be the folder '
                                'holding joints.mat and images/)')
    joints = load_joints(mat_file, kind)
    name = LAYOUTS[kind][1]
    images, anns = [], []
    root = osp.abspath(image_root)
    for i, person in enumerate(joints):
        path = osp.join(folder, 'images', name.format(i + 1))
        rel = osp.relpath(osp.abspath(path), root)
        if rel.startswith('..'):
            raise ValueError(f'{path} is not under --image-root {image_root}')
        width, height = image_size(path)
        img_id = start_id + i
        images.append(dict(id=img_id, file_name=rel, width=width, height=height))
        ann = person_annotation(person, width, height, margin)
        if ann is not None:
            anns.append(dict(id=img_id, image_id=img_id, **ann))
    return images, anns


def coco_file(images: List[dict], anns: List[dict]) -> dict:
    names = [LSP_JOINTS[j] for j in FILE_ORDER]
    return dict(images=images, annotations=anns,
                categories=[dict(id=1, name='person', supercategory='person',
                                 keypoints=names, skeleton=[])])


def write_json(data: dict, path: str) -> None:
    """Write then rename: never a half-written annotation file."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp'
    with open(tmp, 'w') as f:
        json.dump(data, f)
    os.replace(tmp, path)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--lsp', required=True,
                        help='LSP folder (joints.mat 3 x 14 x 2000, images/im0001.jpg ...)')
    parser.add_argument('--lspet', help='LSP-extended folder (joints.mat 14 x 3 x 10000, '
                        'images/im00001.jpg ...); training data as well when given')
    parser.add_argument('--image-root', default='data/lsp/images',
                        help='file names are relative to this (the configs\' data_prefix)')
    parser.add_argument('--out-dir', default='data/lsp/annotations')
    parser.add_argument('--train-count', type=int, default=1000,
                        help='the first N LSP images train, the rest test (standard: 1000)')
    parser.add_argument('--margin', type=float, default=0.1,
                        help='bbox = joints extent enlarged by this fraction on every side')
    args = parser.parse_args(argv)
    images, anns = convert(args.lsp, 'lsp', args.image_root, args.margin)
    if not 0 < args.train_count < len(images):
        raise ValueError(f'--train-count {args.train_count} must be between 1 and '
                         f'{len(images) - 1} for {len(images)} LSP images')
    cut = images[args.train_count - 1]['id']
    train_imgs, test_imgs = images[:args.train_count], images[args.train_count:]
    train_anns = [a for a in anns if a['image_id'] <= cut]
    test_anns = [a for a in anns if a['image_id'] > cut]
    if args.lspet:
        ext_imgs, ext_anns = convert(args.lspet, 'lspet', args.image_root, args.margin,
                                     start_id=len(images) + 1)
        train_imgs, train_anns = train_imgs + ext_imgs, train_anns + ext_anns
    for split, imgs, split_anns in (('train', train_imgs, train_anns),
                                    ('test', test_imgs, test_anns)):
        path = osp.join(args.out_dir, f'lsp_{split}.json')
        write_json(coco_file(imgs, split_anns), path)
        print(f'{path}: {len(imgs)} images, {len(split_anns)} persons')


if __name__ == '__main__':
    main()
