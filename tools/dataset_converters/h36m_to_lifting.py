"""Convert MMPose's preprocessed Human3.6M to the lifting config's files; fit the pose model.

Example (after mmpose's ``tools/dataset_converters/preprocess_h36m.py`` wrote ``data/h36m``)::

    python tools/dataset_converters/h36m_to_lifting.py data/h36m \\
        --npz annotation_body3d/fps10/h36m_train.npz annotation_body3d/fps10/h36m_test.npz
    python tools/train.py configs/lifting/cpm-lift_1xb16-10e_h36m-368x368.py

Writes ``data/h36m/lifting/{train,val}.json`` (train: S1 S5 S6 S7 S8, val/test: S9 S11 by
default), ``poses3d_train.npy`` (training subjects' world poses, mm, z up) and
``pose_prior.npz`` (fitted on them; ``--no-fit`` skips it, then fit with
``tools/misc/fit_pose_prior.py data/h36m/lifting/poses3d_train.npy ...``). The 3D targets are
in the lifter's frame: camera (x right, y down, z forward) -> (x right, depth = z, up = -y),
millimetres; see :mod:`mmssl.datasets.h36m_lifting`.
"""
import argparse
import os.path as osp
from typing import Optional, Sequence

from mmssl.datasets.h36m_lifting import TEST_SUBJECTS, TRAIN_SUBJECTS, convert_h36m


def main(argv: Optional[Sequence[str]] = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='preprocessed Human3.6M folder (has annotation_body3d/)')
    parser.add_argument('--npz', nargs='+',
                        default=['annotation_body3d/fps10/h36m_train.npz',
                                 'annotation_body3d/fps10/h36m_test.npz'],
                        help='annotation files, relative to root')
    parser.add_argument('--cameras', default='annotation_body3d/cameras.pkl')
    parser.add_argument('--out', default='lifting', help='output folder, relative to root')
    parser.add_argument('--train-subjects', nargs='+', default=list(TRAIN_SUBJECTS))
    parser.add_argument('--test-subjects', nargs='+', default=list(TEST_SUBJECTS))
    parser.add_argument('--no-fit', action='store_true', help='do not fit the pose model')
    parser.add_argument('--num-charts', type=int, default=3)
    parser.add_argument('--num-bases', type=int, default=25)
    args = parser.parse_args(argv)
    out = convert_h36m([osp.join(args.root, p) for p in args.npz],
                       osp.join(args.root, args.cameras), osp.join(args.root, args.out),
                       args.train_subjects, args.test_subjects, fit_prior=not args.no_fit,
                       prior_kwargs=dict(num_charts=args.num_charts,
                                         num_bases=args.num_bases))
    for key, val in out.items():
        print(f'{key}: {val}')
    return out


if __name__ == '__main__':
    main()
