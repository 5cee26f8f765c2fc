"""Write synthetic 3D human poses (kinematic 17-joint Human3.6M skeleton) to a .npy file.

Example (fit a pose model on 20k poses, evaluate it on 2k others)::

    python tools/misc/make_synthetic_pose3d.py data/poses_train.npy --num 20000 --seed 0
    python tools/misc/make_synthetic_pose3d.py data/poses_test.npy --num 2000 --seed 1
    python tools/misc/fit_pose_prior.py data/poses_train.npy data/prior.npz \\
        --eval-poses data/poses_test.npy

Poses are ``(N, 17, 3)`` float64 in millimetres, world frame with ``z`` up, root at the
origin (see :mod:`mmssl.datasets.synthetic_pose3d`); the file is written atomically.
"""
import argparse
import os
import os.path as osp
import tempfile
from typing import Optional, Sequence

import numpy as np

from mmssl.datasets.synthetic_pose3d import sample_poses3d


def save_npy_atomic(path: str, array: np.ndarray) -> None:
    """``np.save`` into a temporary file of the same folder, then rename."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.tmp_', suffix='.npy')
    try:
        with os.fdopen(fd, 'wb') as f:
            np.save(f, array)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out', help='.npy file to write')
    parser.add_argument('--num', type=int, default=10000, help='number of poses')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--no-yaw', action='store_true',
                        help='every person faces +y (default: random heading)')
    args = parser.parse_args(argv)
    poses = sample_poses3d(args.num, seed=args.seed, random_yaw=not args.no_yaw)
    save_npy_atomic(args.out, poses)
    print(f'{len(poses)} poses {poses.shape[1:]} written to {args.out}')


if __name__ == '__main__':
    main()
