"""Fit the probabilistic 3D pose model (mixture of PPCA charts) from an array of 3D poses.

Examples::

    # 17-joint Human3.6M poses (N, 17, 3) in mm, z up (H36M world coordinates)
    python tools/misc/fit_pose_prior.py poses_train.npy pose_prior.npz
    # any skeleton: give the parent of every joint; evaluate lifting on held-out poses
    python tools/misc/fit_pose_prior.py poses.npy prior.npz --parents=-1,0,1,2,0,4,5,... \\
        --up-axis -y --eval-poses poses_test.npy

The model file format is documented in :mod:`mmssl.models.lifting.pose_prior` (``.npz`` with
named arrays and ``format_version``); it is written atomically. ``--eval-poses`` projects the
held-out poses orthographically after random rotations about the vertical axis
(:func:`mmssl.models.lifting.project_held_out`, the projection the tests use), optionally adds
2D noise (``--eval-noise``), lifts them with :class:`~mmssl.models.lifting.PPCAMixtureLifter`
(``--ridge``, ``--noise-2d``) and prints MPJPE and PA-MPJPE (mm, mmpose's ``keypoint_mpjpe``).
"""
import argparse
import os.path as osp
from typing import Dict, Optional, Sequence

import numpy as np

from mmssl.datasets.synthetic_pose3d import H36M_JOINT_NAMES, H36M_PARENTS
from mmssl.models.lifting import RIDGE_MODES, PosePrior, evaluate_lifting, fit_pose_prior


def load_poses(path: str, key: Optional[str] = None) -> np.ndarray:
    """Read ``(N, L, 3)`` poses from ``.npy`` or ``.npz`` (``key`` or its only array)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'poses file not found: {path}')
    data = np.load(path, allow_pickle=False)
    if isinstance(data, np.lib.npyio.NpzFile):
        with data:
            if key is None and len(data.files) != 1:
                raise ValueError(f'{path} holds {data.files}: choose one with --key')
            arr = data[key or data.files[0]]
    else:
        arr = data
    if arr.ndim == 2 and arr.shape[1] % 3 == 0:
        arr = arr.reshape(len(arr), -1, 3)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f'{path}: poses must have shape (N, L, 3), got {arr.shape}')
    return arr.astype(np.float64)


def parse_parents(text: str, num_joints: int) -> Sequence[int]:
    if text == 'h36m':
        if num_joints != len(H36M_PARENTS):
            raise ValueError(f"--parents h36m needs 17 joints, the poses have {num_joints}: "
                             'give the parent list explicitly')
        return H36M_PARENTS
    parents = [int(v) for v in text.split(',')]
    if len(parents) != num_joints:
        raise ValueError(f'--parents lists {len(parents)} joints, the poses have {num_joints}')
    return parents


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('poses', help='(N, L, 3) 3D poses, .npy or .npz')
    parser.add_argument('out', help='model file to write (.npz)')
    parser.add_argument('--key', help='array name inside an .npz poses file')
    parser.add_argument('--parents', default='h36m',
                        help="'h36m' (17 joints) or comma-separated parent indices, -1 for "
                        "the root (write --parents=-1,0,...)")
    parser.add_argument('--up-axis', default='z', help='vertical axis: x y z -x -y -z')
    parser.add_argument('--num-charts', type=int, default=3, help='PPCA charts M (release: 3)')
    parser.add_argument('--num-bases', type=int, default=25, help='bases per chart J')
    parser.add_argument('--iters', type=int, default=10, help='alignment/PPCA alternations')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--eval-poses', help='held-out poses to lift and report MPJPE on')
    parser.add_argument('--plot', help='PNG of held-out poses next to their liftings')
    parser.add_argument('--eval-noise', type=float, default=0.0,
                        help='2D noise std added to the held-out projections, as a fraction '
                        'of the person height')
    parser.add_argument('--ridge', default='map', choices=RIDGE_MODES,
                        help="lifter ridge system for --eval-poses ('seed': Eq. 2/5/6)")
    parser.add_argument('--noise-2d', type=float, default=0.0,
                        help="lifter noise_2d for --eval-poses (ridge 'map')")
    return parser.parse_args(argv)


def plot_liftings(gt: np.ndarray, pred: np.ndarray, parents: Sequence[int], path: str,
                  num: int = 4) -> None:
    """Front and side views of ground-truth (grey) and lifted (red) camera-frame poses."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    num = min(num, len(gt))
    fig, axes = plt.subplots(2, num, figsize=(3 * num, 6), squeeze=False)
    for i in range(num):
        for row, (axis, name) in enumerate(((0, 'front (x, up)'), (1, 'side (depth, up)'))):
            ax = axes[row, i]
            for child, par in enumerate(parents):
                if par < 0:
                    continue
                for pose, style, colour in ((gt[i], '-', '0.4'), (pred[i], '--', 'tab:red')):
                    ax.plot(pose[[par, child], axis], pose[[par, child], 2], style,
                            color=colour, lw=2)
            err = np.linalg.norm(gt[i] - pred[i], axis=-1).mean()
            ax.set_title(f'#{i} {name}\nMPJPE {err:.0f} mm', fontsize=9)
            ax.set_aspect('equal')
    fig.suptitle('held-out poses (grey) and their liftings from 2D (red, dashed)')
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, float]:
    args = parse_args(argv)
    poses = load_poses(args.poses, args.key)
    parents = parse_parents(args.parents, poses.shape[1])
    names = H36M_JOINT_NAMES if args.parents == 'h36m' else None
    prior = fit_pose_prior(poses, parents, num_charts=args.num_charts,
                           num_bases=args.num_bases, num_iters=args.iters,
                           up_axis=args.up_axis, seed=args.seed, joint_names=names)
    prior.save(args.out)
    print(f'fitted {prior.num_charts} charts x {prior.num_bases} bases on {len(poses)} poses '
          f'({prior.num_joints} joints); chart weights {np.round(prior.chart_weights, 3)}; '
          f'mean bone RSS {prior.scale_mm:.1f}; written to {args.out}')
    if not args.eval_poses:
        return {}
    held = load_poses(args.eval_poses)
    prior = PosePrior.load(args.out)
    metrics = evaluate_lifting(prior, held, args.up_axis, args.seed, noise=args.eval_noise,
                               return_poses=bool(args.plot), ridge=args.ridge,
                               noise_2d=args.noise_2d)
    print(f'lifting {metrics["num"]} held-out poses (random headings, orthographic, 2D noise '
          f'{args.eval_noise:g} x height, ridge {args.ridge}): MPJPE {metrics["mpjpe"]:.1f}  '
          f'PA-MPJPE {metrics["pa_mpjpe"]:.1f}  reprojection {metrics["reprojection"]:.2f}')
    if args.plot:
        plot_liftings(metrics.pop('gt'), metrics.pop('pred'), prior.parents, args.plot)
        print(f'plot written to {args.plot}')
    return metrics


if __name__ == '__main__':
    main()
