"""Write the synthetic Human3.6M-style lifting dataset and its fitted pose model.

Example::

    python tools/misc/make_synthetic_lifting_data.py data/synthetic_lifting
    python tools/train.py configs/lifting/cpm-lift_1xb16-60e_synthetic-h36m-128x128.py

See :mod:`mmssl.datasets.synthetic_lifting_images` for the layout (images, COCO-style
annotations with ``keypoints_3d``, the 3D training poses and ``pose_prior.npz``).
"""
import argparse

from mmssl.datasets.synthetic_lifting_images import make_synthetic_lifting_data


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', nargs='?', default='data/synthetic_lifting')
    parser.add_argument('--num-train', type=int, default=256, help='training images')
    parser.add_argument('--num-val', type=int, default=64, help='validation images')
    parser.add_argument('--img-size', type=int, default=128, help='square image side (px)')
    parser.add_argument('--num-prior-poses', type=int, default=5000,
                        help='3D poses the pose model is fitted on')
    parser.add_argument('--num-charts', type=int, default=3)
    parser.add_argument('--num-bases', type=int, default=25)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--overwrite', action='store_true', help='replace an existing dataset')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    paths = make_synthetic_lifting_data(
        args.out_dir, num_train=args.num_train, num_val=args.num_val, img_size=args.img_size,
        num_prior_poses=args.num_prior_poses, num_charts=args.num_charts,
        num_bases=args.num_bases, seed=args.seed, overwrite=args.overwrite)
    for key, path in paths.items():
        print(f'{key}: {path}')


if __name__ == '__main__':
    main()
