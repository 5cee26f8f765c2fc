"""Write the synthetic Human3.6M-style lifting dataset and its fitted pose model.

Example::

    python tools/misc/make_synthetic_lifting_data.py data/synthetic_lifting
    python tools/train.py configs/lifting/cpm-lift_1xb16-60e_synthetic-h36m-128x128.py

By default the images are seen by perspective Human3.6M-like cameras (focal length 1145 px
in a 1000 px frame, 2.5-6 m away, elevation -10..30 degrees, roll +-10 degrees, the person
anywhere in the frame), not by the lifter's own upright orthographic camera
(``--camera orthographic --elevation 0 0 --roll 0 0 --no-off-axis`` gives that one back); the
pose model is fitted on poses from another generator stream (``--prior-seed``), optionally
without some activities (``--held-out-activities reach``).

See :mod:`mmssl.datasets.synthetic_lifting_images` for the layout (images, COCO-style
annotations with ``keypoints_3d``, the 3D training poses and ``pose_prior.npz``).
"""
import argparse

from mmssl.datasets.synthetic_lifting_images import make_synthetic_lifting_data
from mmssl.datasets.synthetic_pose3d import ACTIVITIES


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
    cam = parser.add_argument_group('camera of the images (SyntheticCamera)')
    cam.add_argument('--camera', default='perspective', choices=['perspective', 'orthographic'])
    cam.add_argument('--focal-length', type=float, default=1145., help='px of the frame')
    cam.add_argument('--frame-size', type=float, default=1000., help='virtual frame side (px)')
    cam.add_argument('--distance', type=float, nargs=2, default=(2500., 6000.),
                     metavar=('MIN', 'MAX'), help='camera-to-root distance range (mm)')
    cam.add_argument('--elevation', type=float, nargs=2, default=(-10., 30.),
                     metavar=('MIN', 'MAX'), help='camera elevation range (degrees, + above)')
    cam.add_argument('--roll', type=float, nargs=2, default=(-10., 10.), metavar=('MIN', 'MAX'),
                     help='camera roll range (degrees)')
    cam.add_argument('--no-off-axis', action='store_true',
                     help='person at the principal point (default: anywhere in the frame)')
    parser.add_argument('--prior-seed', type=int,
                        help='generator seed of the pose-model poses (default: seed + 1000)')
    parser.add_argument('--held-out-activities', nargs='*', default=[], choices=ACTIVITIES,
                        help='activities shown in the images but not in the pose-model poses')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    paths = make_synthetic_lifting_data(
        args.out_dir, num_train=args.num_train, num_val=args.num_val, img_size=args.img_size,
        num_prior_poses=args.num_prior_poses, num_charts=args.num_charts,
        num_bases=args.num_bases, seed=args.seed, overwrite=args.overwrite,
        camera=dict(projection=args.camera, focal_length=args.focal_length,
                    frame_size=args.frame_size, distance_mm=tuple(args.distance),
                    elevation_deg=tuple(args.elevation), roll_deg=tuple(args.roll),
                    off_axis=not args.no_off_axis),
        held_out_activities=args.held_out_activities, prior_seed=args.prior_seed)
    for key, path in paths.items():
        print(f'{key}: {path}')


if __name__ == '__main__':
    main()
