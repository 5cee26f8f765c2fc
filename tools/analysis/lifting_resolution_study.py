"""How the lifted 3D error depends on the belief-map resolution and on the landmark decoding.

The lifting layer of Lifting from the Deep reads 2D landmarks from belief maps. This study
renders the ground-truth belief maps of held-out synthetic poses with MMPose's
``MSRAHeatmap`` codec (CPM stride 8: 16x16 maps of a 128x128 crop ... 46x46 of the paper's
368x368), reads the landmarks back with each decoding of
:func:`mmssl.models.lifting.landmarks.decode_landmarks` (and the codec's own quarter-cell
refinement), lifts them with the project's lifter (the config's settings) and a pose model
fitted on other generated poses, and measures MPJPE / P-MPJPE against the 3D ground truth.

Two kinds of target maps:

* ``exact``: Gaussians at the exact sub-cell landmark (``MSRAHeatmap(unbiased=True)``), the
  maps a network trained on such targets approaches;
* ``exact+noise``: the same with i.i.d. Gaussian noise (``--map-noise`` x the peak, fixed
  seed) added to every cell -- how robust each decoding is to imperfect maps;
* ``codec``: ``MSRAHeatmap(unbiased=False)`` (the config's codec), whose Gaussians sit on the
  nearest cell centre -- the target itself is quantised, which no decoding can undo.

A person fills the crop as in top-down training (its 2D box, padded 1.25x, spans the map).
Writes ``lifting_resolution_study.md`` (a table) and ``.png`` (MPJPE against resolution) to
``--out-dir`` (default ``configs/lifting/``); all seeds are fixed::

    OMP_NUM_THREADS=1 python tools/analysis/lifting_resolution_study.py
"""
import argparse
import os
import os.path as osp
import time
from typing import Dict, List

import numpy as np
import torch

STRIDE = 8  # CPM: input / belief-map size
PADDING = 1.25  # top-down box padding (mmpose's GetBBoxCenterScale)


def crop_landmarks(kpts: np.ndarray, res: int) -> np.ndarray:
    """Image landmarks ``(N, K, 2)`` in belief-map cells of a ``res x res`` crop whose side is
    the padded larger side of each person's 2D box, centred on the box."""
    lo, hi = kpts.min(1, keepdims=True), kpts.max(1, keepdims=True)
    centre, size = (lo + hi) / 2, (hi - lo).max(-1, keepdims=True) * PADDING
    return (kpts - centre) / size * res + res / 2


def render(cells: np.ndarray, res: int, sigma: float, unbiased: bool) -> np.ndarray:
    """Belief maps ``(N, K, res, res)`` by MMPose's codec (input = ``STRIDE x`` the map)."""
    from mmpose.codecs import MSRAHeatmap
    codec = MSRAHeatmap(input_size=(res * STRIDE, ) * 2, heatmap_size=(res, res), sigma=sigma,
                        unbiased=unbiased)
    vis = np.ones(cells.shape[1:2], dtype=np.float32)[None]
    return np.stack([codec.encode(c[None] * STRIDE, vis)['heatmaps'] for c in cells])


def codec_decode(maps: np.ndarray, res: int, sigma: float) -> np.ndarray:
    """MMPose's own decoding (integer maximum moved 0.25 cell towards the larger neighbour),
    per sample as the codec does it; in cells."""
    from mmpose.codecs import MSRAHeatmap
    codec = MSRAHeatmap(input_size=(res * STRIDE, ) * 2, heatmap_size=(res, res), sigma=sigma)
    return np.stack([codec.decode(m)[0][0] for m in maps]) / STRIDE


def run(args: argparse.Namespace) -> List[Dict]:
    from mmpose.evaluation.functional import keypoint_mpjpe
    from mmssl.datasets.synthetic_pose3d import H36M_JOINT_NAMES, H36M_PARENTS, sample_poses3d
    from mmssl.models.lifting import PPCAMixtureLifter, fit_pose_prior, project_held_out
    from mmssl.models.lifting.landmarks import DECODE_MODES, decode_landmarks

    torch.set_num_threads(args.threads)
    prior = fit_pose_prior(sample_poses3d(args.num_prior_poses, seed=args.seed), H36M_PARENTS,
                           num_charts=3, num_bases=25, joint_names=H36M_JOINT_NAMES,
                           seed=args.seed)
    # the config's lifter (configs/lifting/cpm-lift_*.py)
    lifter = PPCAMixtureLifter(prior, num_rotations=100, noise_2d=0.05, prior_weight=1.0,
                               min_visible=4)
    root = int(np.flatnonzero(prior.parents < 0)[0])
    gt3d, kpts = project_held_out(sample_poses3d(args.num_poses, seed=args.seed + 1),
                                  seed=args.seed + 1, root=root)
    mask = np.ones(gt3d.shape[:2], dtype=bool)

    def lift(landmarks: np.ndarray) -> Dict[str, float]:
        with torch.no_grad():
            pred = lifter(torch.from_numpy(np.ascontiguousarray(landmarks, np.float64)))
        pred = pred.poses_3d.numpy()
        return dict(mpjpe=float(keypoint_mpjpe(pred, gt3d, mask, 'none')),
                    pa_mpjpe=float(keypoint_mpjpe(pred, gt3d, mask, 'procrustes')))

    rows = [dict(res='-', target='exact 2D (no maps)', decode='-', err_cells=0.,
                 err_height=0., **lift(kpts))]
    for res in args.resolutions:
        cells = crop_landmarks(kpts, res)
        height = np.ptp(cells[..., 1], axis=1).mean()
        rng = np.random.default_rng(args.seed + res)
        for target, unbiased, noise in (('exact', True, 0.), ('exact+noise', True,
                                                                args.map_noise),
                                        ('codec', False, 0.)):
            maps = render(cells, res, args.sigma, unbiased)
            if noise > 0:
                maps = maps + noise * rng.standard_normal(maps.shape).astype(maps.dtype)
            decoded = {m: decode_landmarks(torch.from_numpy(maps), m)[0].double().numpy()
                       for m in DECODE_MODES}
            decoded['mmpose quarter-cell'] = codec_decode(maps, res, args.sigma)
            for mode, lm in decoded.items():
                err = np.linalg.norm(lm - cells, axis=-1).mean()
                rows.append(dict(res=res, target=target, decode=mode, err_cells=float(err),
                                 err_height=float(err / height), **lift(lm)))
            print(f'{res}x{res} {target}: ' + ', '.join(
                f'{r["decode"]} {r["mpjpe"]:.1f}' for r in rows[-len(decoded):]), flush=True)
    return rows


def write_table(rows: List[Dict], args: argparse.Namespace, seconds: float) -> str:
    lines = [
        '# Lifted 3D error vs belief-map resolution and landmark decoding',
        '',
        f'Generated by `tools/analysis/lifting_resolution_study.py` (seed {args.seed}; '
        f'{args.num_poses} held-out poses at random headings, pose model 3 charts x 25 bases '
        f'fitted on {args.num_prior_poses} other generated poses; lifter as in the config: 100 '
        f'rotations, `noise_2d=0.05`; belief maps by MMPose `MSRAHeatmap`, sigma '
        f'{args.sigma} cell, person box padded {PADDING}x filling the map; exact+noise: '
        f'N(0, {args.map_noise:g}^2) per cell, peak 1; {seconds:.0f} s). '
        'Errors in mm, root-relative; 2D error in cells and in % of the person\'s height on '
        'the map.',
        '',
        '| map | target | decode | 2D error (cells) | 2D error (% height) | MPJPE | P-MPJPE |',
        '|---|---|---|---|---|---|---|',
    ]
    for r in rows:
        res = r['res'] if r['res'] == '-' else f'{r["res"]}x{r["res"]}'
        lines.append(f'| {res} | {r["target"]} | {r["decode"]} | {r["err_cells"]:.3f} | '
                     f'{100 * r["err_height"]:.2f} | {r["mpjpe"]:.1f} | {r["pa_mpjpe"]:.1f} |')
    return '\n'.join(lines) + '\n'


def plot(rows: List[Dict], args: argparse.Namespace, out: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    targets = ('exact', 'exact+noise', 'codec')
    fig, axes = plt.subplots(1, len(targets), figsize=(15, 4), sharey=True)
    floor = rows[0]['mpjpe']
    for ax, target in zip(axes, targets):
        sel = [r for r in rows if r['target'] == target]
        for mode in dict.fromkeys(r['decode'] for r in sel):
            pts = [(r['res'], r['mpjpe']) for r in sel if r['decode'] == mode]
            ax.plot(*zip(*pts), marker='o', label=mode)
        ax.axhline(floor, color='gray', ls='--', label='exact 2D')
        ax.set_title({'exact': 'exact maps (unbiased codec)',
                      'exact+noise': f'exact maps + noise {args.map_noise:g}',
                      'codec': 'quantised maps (config codec)'}[target])
        ax.set_xlabel('belief-map size (cells; input = 8x)')
        ax.grid(alpha=0.3)
    axes[0].set_ylabel('MPJPE of the lifted pose (mm)')
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--resolutions', type=int, nargs='+', default=[16, 23, 32, 46])
    parser.add_argument('--num-poses', type=int, default=2000, help='held-out poses')
    parser.add_argument('--num-prior-poses', type=int, default=20000)
    parser.add_argument('--sigma', type=float, default=1.0, help='Gaussian sigma (cells)')
    parser.add_argument('--map-noise', type=float, default=0.05,
                        help='noise of the exact+noise maps (x the peak)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--out-dir', default=osp.join(osp.dirname(__file__), '..', '..',
                                                      'configs', 'lifting'))
    args = parser.parse_args()
    start = time.time()
    rows = run(args)
    os.makedirs(args.out_dir, exist_ok=True)
    base = osp.join(args.out_dir, 'lifting_resolution_study')
    table = write_table(rows, args, time.time() - start)
    with open(base + '.md', 'w') as f:
        f.write(table)
    plot(rows, args, base + '.png')
    print(table)
    print(f'wrote {base}.md and {base}.png')


if __name__ == '__main__':
    main()
