"""Plot self-training curves (STLD Fig. 3): test NME and pseudo-label NME per round.

Reads the ``self_training_state.json`` of one or more self-training work_dirs (STLD, naive,
selection...) and draws, per round, (a) the test NME of the round's model and (b) the NME of
the round's pseudo-labels against the hidden labels of the unlabeled images (only when the job
was run with ``self_training.pseudo_gt_ann_file``). Round 0 is the supervised model, drawn as
a dashed reference line. Also prints the numbers as a Markdown table.

Example:
    python tools/analysis/plot_stld.py --runs STLD=work_dirs/stld naive=work_dirs/naive \
        --out work_dirs/stld_curves.png
"""
import argparse
import json
import os
import os.path as osp
from typing import Dict, List, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

STATE_FILE = 'self_training_state.json'


def read_run(work_dir: str) -> Dict[str, Dict[int, float]]:
    """``{'test': {round: NME}, 'pseudo': {round: NME}, 'auc': ..., 'fr': ...}`` of a job."""
    path = osp.join(work_dir, STATE_FILE)
    if not osp.isfile(path):
        raise FileNotFoundError(f'no {STATE_FILE} in {work_dir} (not a self-training work_dir?)')
    with open(path) as f:
        completed = json.load(f)['completed']
    curves: Dict[str, Dict[int, float]] = dict(test={}, pseudo={}, auc={}, fr={})
    for record in completed.values():
        spec, metrics = record.get('spec', {}), record.get('metrics') or {}
        rnd = spec.get('round')
        if spec.get('kind') == 'eval' and 'NME' in metrics:
            curves['test'][rnd] = metrics['NME']
            curves['auc'][rnd] = metrics.get('AUC@0.1', float('nan'))
            curves['fr'][rnd] = metrics.get('FR@0.1', float('nan'))
        elif spec.get('kind') == 'label' and 'pseudo/NME' in metrics:
            curves['pseudo'][rnd] = metrics['pseudo/NME']
    if not curves['test']:
        raise ValueError(f'{path}: no evaluated round yet')
    return curves


def _series(points: Dict[int, float]) -> Tuple[List[int], List[float]]:
    rounds = sorted(points)
    return rounds, [100 * points[r] for r in rounds]


def plot(runs: Dict[str, Dict[str, Dict[int, float]]], out: str, title: str = '') -> None:
    """Draw the two panels into ``out`` (PNG)."""
    has_pseudo = any(c['pseudo'] for c in runs.values())
    fig, axes = plt.subplots(1, 2 if has_pseudo else 1, figsize=(11 if has_pseudo else 6, 4.2),
                             squeeze=False)
    first = next(iter(runs.values()))
    panels = [('test', 'test NME (%)', '(a) test NME per round', 'supervised (round 0)')]
    if has_pseudo:
        panels.append(('pseudo', 'pseudo-label NME (%)', '(b) pseudo-label noise per round',
                       'round 0 (supervised model)'))
    for ax, (key, ylabel, name, ref) in zip(axes[0], panels):
        if 0 in first[key]:
            ax.axhline(100 * first[key][0], color='grey', ls='--', lw=1,
                       label=f'{ref}: {100 * first[key][0]:.2f}')
        for label, curves in runs.items():
            xs, ys = _series(curves[key])
            if xs:
                ax.plot(xs, ys, marker='o', label=f'{label}: {ys[-1]:.2f} at round {xs[-1]}')
        ax.set_xlabel('self-training round')
        ax.set_ylabel(ylabel)
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.xaxis.get_major_locator().set_params(integer=True)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    tmp = out + '.tmp.png'
    fig.savefig(tmp, dpi=120)
    os.replace(tmp, out)
    plt.close(fig)


def table(runs: Dict[str, Dict[str, Dict[int, float]]]) -> str:
    """Markdown table: test NME / AUC@0.1 / FR@0.1 and pseudo-label NME per run and round."""
    rounds = sorted({r for c in runs.values() for r in c['test']})
    lines = ['| run | metric | ' + ' | '.join(f'round {r}' for r in rounds) + ' |',
             '|---|---|' + '---|' * len(rounds)]
    for label, c in runs.items():
        for key, name in (('test', 'test NME %'), ('auc', 'test AUC@0.1 %'),
                          ('fr', 'test FR@0.1 %'), ('pseudo', 'pseudo-label NME %')):
            if c[key]:
                cells = [f'{100 * c[key][r]:.2f}' if r in c[key] else '-' for r in rounds]
                lines.append(f'| {label} | {name} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', nargs='+', required=True, metavar='LABEL=WORK_DIR',
                        help='self-training work_dirs, each with a legend label')
    parser.add_argument('--out', default='stld_curves.png', help='PNG to write')
    parser.add_argument('--title', default='')
    args = parser.parse_args()
    runs = {}
    for item in args.runs:
        label, sep, work_dir = item.partition('=')
        if not sep:
            label, work_dir = osp.basename(osp.normpath(item)), item
        runs[label] = read_run(work_dir)
    plot(runs, args.out, args.title)
    print(table(runs))
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
