"""Poses lifted per second: batched torch lifter vs a per-pose numpy loop of the same math.

Both solve the same ridge problems (3 charts x 100 rotations by default) on the same inputs in
one run: the baseline loops over people, charts and rotations with ``numpy.linalg.lstsq`` (as
the authors' release does), the batched :class:`PPCAMixtureLifter` uses precomputed
pseudo-inverses and one matrix product per chunk. Prints poses/s, the speed-up and the largest
differences of the outputs (target: >= 100x at batch 1024 on CPU)::

    python benchmarks/bench_lifting.py                      # CPU, float64 and float32
    python benchmarks/bench_lifting.py --device cuda --batch-sizes 1 64 1024 8192
"""
import argparse
import time
from typing import Callable, Dict, List

import numpy as np
import torch

from mmssl.datasets.synthetic_pose3d import H36M_PARENTS, sample_poses3d
from mmssl.models.lifting import (PPCAMixtureLifter, PosePrior, fit_pose_prior, lift_reference,
                                  project_held_out)


def _timeit(fn: Callable[[], object], min_time: float, sync: Callable[[], None]) -> float:
    """Seconds per call: repeat until ``min_time`` has elapsed (after one warm-up call)."""
    fn()
    sync()
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        sync()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed / calls


def make_inputs(num: int, seed: int) -> np.ndarray:
    """Orthographic image landmarks ``(num, 17, 2)`` of held-out poses at random headings."""
    return project_held_out(sample_poses3d(num, seed=seed), seed=seed, scale=0.2,
                            offset=200.)[1]


def run(args: argparse.Namespace) -> List[Dict[str, float]]:
    torch.set_num_threads(args.threads)
    if args.prior:
        prior = PosePrior.load(args.prior)
    else:
        prior = fit_pose_prior(sample_poses3d(5000, seed=0), H36M_PARENTS,
                               num_charts=args.charts, num_bases=25)
    dev = torch.device(args.device)
    lifter = PPCAMixtureLifter(prior, num_rotations=args.rotations, ridge=args.ridge).to(dev)
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
    print(f'model: {prior.num_charts} charts x {prior.num_bases} bases, {args.rotations} '
          f'rotations, ridge {args.ridge}, {prior.num_joints} joints; device {dev}, torch threads '
          f'{torch.get_num_threads()}')
    header = (f'{"batch":>6} {"dtype":>8} {"loop poses/s":>13} {"batched poses/s":>16} '
              f'{"speed-up":>9} {"max|d2D|":>9} {"max|d3D|":>9} {"same choice":>11}')
    print(header)
    rows = []
    for batch in args.batch_sizes:
        kpts = make_inputs(batch, seed=1000 + batch)
        vis = np.ones(kpts.shape[:2], dtype=bool)
        n_ref = min(batch, args.ref_limit) if args.ref_limit else batch
        start = time.perf_counter()
        ref = lift_reference(kpts[:n_ref], vis[:n_ref], lifter)
        loop_rate = n_ref / (time.perf_counter() - start)
        for dtype in args.dtypes:
            inp = torch.from_numpy(kpts).to(dev, getattr(torch, dtype))
            with torch.no_grad():
                sec = _timeit(lambda: lifter(inp), args.min_time, sync)
                out = lifter(inp)
            d2 = np.abs(out.keypoints_2d[:n_ref].double().cpu().numpy() -
                        ref['keypoints_2d']).max()
            d3 = np.abs(out.poses_3d_normalised[:n_ref].double().cpu().numpy() -
                        ref['poses_3d_normalised']).max()
            same = float(((out.chart[:n_ref].cpu().numpy() == ref['chart']) &
                          (out.rotation[:n_ref].cpu().numpy() == ref['rotation'])).mean())
            row = dict(batch=batch, dtype=dtype, loop=loop_rate, batched=batch / sec,
                       speedup=batch / sec / loop_rate, d2=d2, d3=d3, same=same)
            rows.append(row)
            print(f'{batch:>6} {dtype:>8} {loop_rate:>13.1f} {row["batched"]:>16.1f} '
                  f'{row["speedup"]:>8.1f}x {d2:>9.2e} {d3:>9.2e} {same:>11.3f}')
    print('max|d2D|: image units (people ~340 px tall); max|d3D|: normalised units (height '
          '2); same choice: fraction of people with identical chart and rotation')
    return rows


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[1, 64, 1024])
    parser.add_argument('--dtypes', nargs='+', default=['float64', 'float32'],
                        choices=['float64', 'float32'])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch CPU threads (1: compare with the one-core numpy loop)')
    parser.add_argument('--charts', type=int, default=3)
    parser.add_argument('--rotations', type=int, default=100)
    parser.add_argument('--ridge', default='map', choices=['map', 'seed'],
                        help="ridge system ('seed': Eq. 2/5/6); the speed is the same")
    parser.add_argument('--prior', help='a pose model file (default: fit one on 5000 poses)')
    parser.add_argument('--ref-limit', type=int, default=0,
                        help='time the loop on at most this many people (0: all)')
    parser.add_argument('--min-time', type=float, default=1.0,
                        help='seconds of repeated batched calls per measurement')
    return parser.parse_args()


if __name__ == '__main__':
    run(parse_args())
