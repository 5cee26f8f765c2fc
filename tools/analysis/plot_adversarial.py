"""Plot the paper's Figure 5 (seed 001): G's predicted rotation (and scale) distribution next
to the pose network's loss distribution over the same bins, at several points of training.

Reads what ``AdversarialDistributionHook`` logged through mmengine's LocalVisBackend
(``<work_dir>/<timestamp>/vis_data/scalars.json`` and ``adversarial_bins.json``): rows are
G's prediction (``adv/pred_*``), D's per-bin loss distribution in the adversarial run
(``adv/loss_*``) and, with ``--random``, in a random-augmentation run; columns are evenly
spaced logged iterations. A last row plots KL(D's loss distribution || G's prediction) over
training: it falls while G tracks D.

    python tools/analysis/plot_adversarial.py work_dirs/stage3-asr-aho \
        --random work_dirs/stage3-random --out figure5.png
"""
import argparse
import glob
import json
import os
import os.path as osp
import tempfile
from typing import Dict, List, Optional, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

Series = Dict[int, List[float]]  # step -> distribution


def find_run(work_dir: str) -> str:
    """The latest ``<timestamp>`` folder of ``work_dir`` that has ``vis_data/scalars.json``
    (or ``work_dir`` itself when it is such a folder)."""
    if osp.isfile(osp.join(work_dir, 'vis_data', 'scalars.json')):
        return work_dir
    runs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not runs:
        raise FileNotFoundError(f'no */vis_data/scalars.json under {work_dir}: train with '
                                'AdversarialDistributionHook and LocalVisBackend')
    return osp.dirname(osp.dirname(runs[-1]))


def read_run(run_dir: str) -> Tuple[Dict[str, Series], Dict[str, List[Tuple[int, float]]],
                                    Optional[dict]]:
    """(distributions ``{'pred_rotation': {step: [p_0..]}, ...}``, scalar curves
    ``{'track_kl_rotation': [(step, v)]}``, bins) of one run."""
    dists: Dict[str, Series] = {}
    curves: Dict[str, List[Tuple[int, float]]] = {}
    with open(osp.join(run_dir, 'vis_data', 'scalars.json')) as f:
        for line in f:
            if not line.strip():
                continue
            rec = json.loads(line)
            step = int(rec.get('step', rec.get('iter', 0)))
            for key, value in rec.items():
                if not key.startswith('adv/'):
                    continue
                name = key[4:]
                head, _, idx = name.rpartition('_')
                if head.startswith(('pred_', 'loss_')) and idx.isdigit():
                    row = dists.setdefault(head, {}).setdefault(step, [])
                    row.extend([0.] * (int(idx) + 1 - len(row)))
                    row[int(idx)] = float(value)
                elif name.startswith('track_kl_'):
                    curves.setdefault(name, []).append((step, float(value)))
    bins_file = osp.join(run_dir, 'adversarial_bins.json')
    bins = None
    if osp.isfile(bins_file):
        with open(bins_file) as f:
            bins = json.load(f)
    if not dists:
        raise ValueError(f'{run_dir}/vis_data/scalars.json has no adv/* distributions')
    return dists, curves, bins


def bin_labels(bins: Optional[dict], factor: str, n: int) -> List[str]:
    if not bins or len(bins.get(factor, [])) != n:
        return [str(i) for i in range(n)]
    if factor == 'scale' and bins.get('scale_log2', True):
        return [f'{2 ** v:.2f}' for v in bins['scale']]
    return [f'{v:g}' for v in bins[factor]]


def pick_steps(steps: List[int], count: int) -> List[int]:
    if len(steps) <= count:
        return steps
    return [steps[round(i * (len(steps) - 1) / (count - 1))] for i in range(count)]


def plot(adv_dir: str, random_dir: Optional[str], out: str, factors: List[str],
         snapshots: int) -> str:
    dists, curves, bins = read_run(find_run(adv_dir))
    rand = read_run(find_run(random_dir))[0] if random_dir else {}
    rows = []
    for factor in factors:
        for key, label, source in ((f'pred_{factor}', f'G: predicted {factor}', dists),
                                   (f'loss_{factor}', f'D loss ({factor}), adversarial',
                                    dists),
                                   (f'loss_{factor}', f'D loss ({factor}), random', rand)):
            if key in source:
                rows.append((source[key], label, factor))
    if not rows:
        raise ValueError(f'nothing to plot for factors {factors}')
    steps = pick_steps(sorted(rows[0][0]), snapshots)
    fig, axes = plt.subplots(len(rows) + 1, len(steps), squeeze=False,
                             figsize=(2.6 * len(steps), 1.9 * (len(rows) + 1)))
    for r, (series, label, factor) in enumerate(rows):
        for c, step in enumerate(steps):
            ax = axes[r][c]
            near = min(series, key=lambda s: abs(s - step))  # runs may log at other steps
            values = series[near]
            ax.bar(range(len(values)), values, color=f'C{r % 10}')
            ax.set_ylim(0, max(max(v) for v in series.values()) * 1.1 or 1)
            ax.set_xticks(range(len(values)))
            ax.set_xticklabels(bin_labels(bins, factor, len(values)), fontsize=6,
                               rotation=90)
            if r == 0:
                ax.set_title(f'iter {near}', fontsize=9)
            if c == 0:
                ax.set_ylabel(label, fontsize=8)
    gs = axes[-1][0].get_gridspec()
    for ax in axes[-1]:
        ax.remove()
    ax = fig.add_subplot(gs[-1, :])
    for name, points in sorted(curves.items()):
        xs, ys = zip(*sorted(points))
        ax.plot(xs, ys, label=name.replace('track_kl_', 'KL(D loss || G pred), '))
    ax.set_xlabel('iteration')
    if curves:
        ax.legend(fontsize=8)
    fig.suptitle('Adversarial augmentation: G tracks the pose network (seed 001, Fig. 5)')
    fig.tight_layout()
    folder = osp.dirname(osp.abspath(out))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix='.png')
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600
        os.replace(tmp, out)
    finally:
        plt.close(fig)
        if osp.exists(tmp):
            os.remove(tmp)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dir', help='work dir (or run folder) of the adversarial run')
    parser.add_argument('--random', help='work dir of a random-augmentation run (3rd row)')
    parser.add_argument('--factors', nargs='+', default=['rotation', 'scale'],
                        choices=['rotation', 'scale', 'occlusion'])
    parser.add_argument('--snapshots', type=int, default=5)
    parser.add_argument('--out', default='adversarial_distributions.png')
    args = parser.parse_args()
    print(plot(args.work_dir, args.random, args.out, args.factors, args.snapshots))


if __name__ == '__main__':
    main()
