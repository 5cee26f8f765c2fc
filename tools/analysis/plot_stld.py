"""Plot self-training curves (STLD Fig. 3): test NME and pseudo-label NME per round.

Reads the ``self_training_state.json`` of one or more self-training work_dirs (STLD, naive,
selection...) and draws, per round, (a) the test NME of the round's model and (b) the NME of
the round's pseudo-labels against the hidden labels of the unlabeled images (only when the job
was run with ``self_training.pseudo_gt_ann_file``). Round 0 is the supervised model, drawn as
a dashed reference line. Also prints the numbers as a Markdown table.

A label may name several work_dirs (the seeds of one arm: comma-separated, or a glob such as
``'paper/seed*'``); its curve is then the mean over them with a +-1 std band, and the table
gives mean +- std.

Example:
    python tools/analysis/plot_stld.py --runs STLD=work_dirs/stld naive=work_dirs/naive \
        --out work_dirs/stld_curves.png
    python tools/analysis/plot_stld.py --runs 'paper=study/paper/seed*' \
        'output=study/output/seed*' --out switch_study.png
"""
import glob
import argparse
import json
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

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


Curves = Dict[str, Dict[int, float]]


def _rounds(group: Sequence[Curves], key: str) -> List[int]:
    """The rounds that every run of ``group`` has for ``key``."""
    common = set.intersection(*(set(c[key]) for c in group))
    return sorted(common)


def _stats(group: Sequence[Curves], key: str, rnd: int) -> Tuple[float, float]:
    """Mean and std (ddof 1; 0 for one run) of ``key`` at ``rnd`` over ``group``, in %."""
    values = 100 * np.array([c[key][rnd] for c in group])
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def plot(runs: Dict[str, Sequence[Curves]], out: str, title: str = '',
         first_round: int = 0) -> None:
    """Draw the two panels into ``out`` (PNG); ``runs`` maps a label to its runs' curves.
    ``first_round`` > 0 leaves the earlier rounds (and the round-0 line) out, so that small
    differences between late rounds are not flattened by round 0's scale."""
    has_pseudo = any(c['pseudo'] for group in runs.values() for c in group)
    fig, axes = plt.subplots(1, 2 if has_pseudo else 1, figsize=(11 if has_pseudo else 6, 4.2),
                             squeeze=False)
    first = next(iter(runs.values()))
    panels = [('test', 'test NME (%)', '(a) test NME per round', 'supervised (round 0)')]
    if has_pseudo:
        panels.append(('pseudo', 'pseudo-label NME (%)', '(b) pseudo-label noise per round',
                       'round 0 (supervised model)'))
    for ax, (key, ylabel, name, ref) in zip(axes[0], panels):
        if first_round == 0 and 0 in _rounds(first, key):
            ref_mean = _stats(first, key, 0)[0]
            ax.axhline(ref_mean, color='grey', ls='--', lw=1, label=f'{ref}: {ref_mean:.2f}')
        for label, group in runs.items():
            xs = [r for r in _rounds(group, key) if r >= first_round]
            if not xs:
                continue
            means, stds = np.array([_stats(group, key, r) for r in xs]).T
            seeds = f' (mean of {len(group)})' if len(group) > 1 else ''
            line, = ax.plot(xs, means, marker='o',
                            label=f'{label}{seeds}: {means[-1]:.2f} at round {xs[-1]}')
            if len(group) > 1:
                ax.fill_between(xs, means - stds, means + stds, color=line.get_color(),
                                alpha=0.15, lw=0)
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


def table(runs: Dict[str, Sequence[Curves]]) -> str:
    """Markdown table: test NME / AUC@0.1 / FR@0.1 and pseudo-label NME per label and round
    (mean +- std where a label has several runs)."""
    rounds = sorted({r for group in runs.values() for c in group for r in c['test']})
    lines = ['| run | metric | ' + ' | '.join(f'round {r}' for r in rounds) + ' |',
             '|---|---|' + '---|' * len(rounds)]
    for label, group in runs.items():
        for key, name in (('test', 'test NME %'), ('auc', 'test AUC@0.1 %'),
                          ('fr', 'test FR@0.1 %'), ('pseudo', 'pseudo-label NME %')):
            have = _rounds(group, key)
            if not have:
                continue
            cells = []
            for r in rounds:
                mean, std = _stats(group, key, r) if r in have else (None, None)
                cells.append('-' if mean is None else f'{mean:.2f}' if len(group) == 1
                             else f'{mean:.2f} +- {std:.2f}')
            lines.append(f'| {label} | {name} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def run_table(runs: Dict[str, Sequence[Curves]], names: Dict[str, Sequence[str]],
              key: str = 'test') -> str:
    """Markdown table of ``key`` (``'test'`` or ``'pseudo'`` NME, %) with one row per run:
    the label, the run's name (``names[label][i]``, e.g. its seed directory) and its rounds."""
    rounds = sorted({r for group in runs.values() for c in group for r in c[key]})
    lines = ['| run | work_dir | ' + ' | '.join(f'round {r}' for r in rounds) + ' |',
             '|---|---|' + '---|' * len(rounds)]
    for label, group in runs.items():
        for name, c in zip(names[label], group):
            cells = [f'{100 * c[key][r]:.2f}' if r in c[key] else '-' for r in rounds]
            lines.append(f'| {label} | {name} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def work_dirs_of(spec: str) -> List[str]:
    """The work_dirs of a ``--runs`` value: comma-separated paths, each maybe a glob."""
    dirs = []
    for part in spec.split(','):
        matched = sorted(glob.glob(part)) if glob.has_magic(part) else [part]
        if not matched:
            raise FileNotFoundError(f'--runs: no work_dir matches {part!r}')
        dirs += matched
    return dirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', nargs='+', required=True, metavar='LABEL=WORK_DIR',
                        help='self-training work_dirs, each with a legend label; several '
                        'work_dirs of one label (comma-separated or a glob) are averaged')
    parser.add_argument('--out', default='stld_curves.png', help='PNG to write')
    parser.add_argument('--title', default='')
    parser.add_argument('--first-round', type=int, default=0,
                        help='draw rounds from this one on (the table keeps all)')
    parser.add_argument('--per-run', action='store_true',
                        help='also print the test and pseudo-label NME of every run')
    args = parser.parse_args()
    runs, names = {}, {}
    for item in args.runs:
        label, sep, spec = item.partition('=')
        if not sep:
            label, spec = osp.basename(osp.normpath(item)), item
        dirs = work_dirs_of(spec)
        runs[label] = [read_run(d) for d in dirs]
        names[label] = [osp.basename(osp.normpath(d)) for d in dirs]
    plot(runs, args.out, args.title, args.first_round)
    print(table(runs))
    if args.per_run:
        for key, name in (('test', 'test NME (%)'), ('pseudo', 'pseudo-label NME (%)')):
            print(f'\n{name} per run\n\n' + run_table(runs, names, key))
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
