"""Plot 2D and 3D errors stage by stage for arms of a lifting seed study.

    python tools/analysis/plot_lifting_stages.py WORK_DIR --arms plain lift \
        --labels "plain CPM" "LiftingCPM" --seeds 0 1 2 --out stages.png

Reads ``WORK_DIR/ARM/seedS/metrics.json`` (``tools/analysis/seed_study.py`` layout) and draws,
per arm, the mean +- std over seeds of ``PCK_sN``, ``EPE_sN`` (2D, every stage) and
``MPJPE_sN`` (3D lifted from each fused stage; the last point is the final ``MPJPE``).
"""
import argparse
import os
import os.path as osp
import re
import sys

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmssl.utils.seed_study import load_metrics  # noqa: E402


def stage_series(runs: dict, prefix: str, final: str = None) -> np.ndarray:
    """``(seeds, stages)`` values of ``{prefix}_s1 ..`` (then ``final``) over the runs."""
    rows = []
    for seed, metrics in sorted(runs.items()):
        stages = sorted((int(m.group(1)), v) for k, v in metrics.items()
                        if (m := re.fullmatch(rf'{re.escape(prefix)}_s(\d+)', k)))
        if not stages:
            raise KeyError(f'seed {seed}: no {prefix}_sN keys in its metrics ({sorted(metrics)})')
        values = [v for _, v in stages] + ([metrics[final]] if final else [])
        rows.append(values)
    return np.asarray(rows, dtype=float)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dir')
    parser.add_argument('--arms', nargs='+', required=True)
    parser.add_argument('--labels', nargs='+')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    labels = args.labels or args.arms
    if len(labels) != len(args.arms):
        parser.error('--labels needs one label per arm')
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    metrics = load_metrics(args.work_dir, args.arms, args.seeds)
    missing = [a for a in args.arms if a not in metrics]
    if missing:
        raise FileNotFoundError(f'no finished run of {missing} under {args.work_dir}')
    panels = [('PCK', None, 'PCK@0.05 (2D)', 'stage'), ('EPE', None, 'EPE, px (2D)', 'stage'),
              ('MPJPE', 'MPJPE', 'MPJPE, mm (3D)', 'stage (last: final)')]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, (prefix, final, title, xlabel) in zip(axes, panels):
        for arm, label in zip(args.arms, labels):
            series = stage_series(metrics[arm], prefix, final)
            x = np.arange(1, series.shape[1] + 1)
            mean, std = series.mean(0), series.std(0, ddof=1) if len(series) > 1 else 0 * x
            ax.plot(x, mean, marker='o', label=f'{label} (n={len(series)})')
            ax.fill_between(x, mean - std, mean + std, alpha=0.2)
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    tmp = f'{args.out}.tmp.png'
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, args.out)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
