"""Plot CI-SSOD training curves (seed 004, Figures 3 and 5 style) from mmengine logs.

    python tools/analysis/plot_ci_ssod.py RUN_DIR [RUN_DIR ...] --labels "Soft Teacher" Ours \
        --minority diamond cross ring [--cls ring] --out ci_ssod_curves.png

RUN_DIR is a work dir (or a timestamped run inside it); the per-class scalars written by
``CISSODStatisticsHook`` are read from ``vis_data/scalars.json`` (LocalVisBackend). The first
run is drawn dashed (the baseline), the others solid. Panels:

(a) mean gradient norm (positive + negative) of the majority and the minority classes
    (Figure 3); (b) positive vs negative gradient of one minority class in every run
    (Figure 5); (c) GbR class weights of the last run; (d) GbT thresholds of the last
    run; (e) cumulative pseudo-labels of the majority and minority classes; (f) final AP on
    all / majority / minority classes when the runs were evaluated (``*bbox_mAP_{all,maj,min}``).

Gradients in (a) and (b) are those the GbR loss really back-propagated (``pos_app`` /
``neg_app``: per-RoI weights ``w_y ** beta / m``, label weights and normalisers included,
labeled and unlabeled branches combined), not the solver's fixed point (``pos_w`` /
``neg_w``: the accumulated matrix with ``w`` on every row, balanced by construction). Logs
written before the applied gradients were logged fall back to ``pos_w`` / ``neg_w`` (legend
"matrix x w"), or to the raw ``pos`` / ``neg`` for runs named in ``--raw-grad``.
"""
import argparse
import glob
import json
import os
import os.path as osp
import tempfile
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

PREFIX = 'ci_ssod/'


def find_scalars(run_dir: str) -> str:
    """The newest ``vis_data/scalars.json`` under ``run_dir``."""
    direct = osp.join(run_dir, 'vis_data', 'scalars.json')
    if osp.isfile(direct):
        return direct
    found = sorted(glob.glob(osp.join(run_dir, '*', 'vis_data', 'scalars.json')))
    if not found:
        raise FileNotFoundError(f'no vis_data/scalars.json under {run_dir} (train with '
                                "visualizer vis_backends=[dict(type='LocalVisBackend')])")
    return found[-1]


def load_run(path: str) -> Tuple[Dict[str, Dict[str, List[Tuple[int, float]]]], Dict]:
    """Per-class series ``{stat: {class: [(step, value)]}}`` and the last eval metrics."""
    per_class: Dict[str, Dict[str, List[Tuple[int, float]]]] = defaultdict(
        lambda: defaultdict(list))
    metrics: Dict[str, float] = {}
    with open(path) as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}:{line_no} is not JSON: {err}') from err
            step = int(row.get('step', row.get('iter', 0)))
            for key, value in row.items():
                if key.startswith(PREFIX):
                    _, stat, name = key.split('/', 2)
                    per_class[stat][name].append((step, float(value)))
                elif 'bbox_mAP' in key:
                    metrics[key] = float(value)
    if not per_class:
        raise ValueError(f'{path} has no {PREFIX}* scalars: was CISSODStatisticsHook used?')
    return per_class, metrics


def _series(per_class, stat: str, names: Sequence[str]) -> Tuple[np.ndarray, np.ndarray]:
    """Steps and a (T, len(names)) array of a statistic (classes missing -> NaN)."""
    data = per_class.get(stat, {})
    steps = sorted({s for n in names for s, _ in data.get(n, [])})
    out = np.full((len(steps), len(names)), np.nan)
    index = {s: i for i, s in enumerate(steps)}
    for j, n in enumerate(names):
        for s, v in data.get(n, []):
            out[index[s], j] = v
    return np.asarray(steps), out


def _group_metric(metrics: Dict[str, float], group: str) -> Optional[float]:
    keys = sorted(k for k in metrics if k.endswith(f'bbox_mAP_{group}'))
    teacher = [k for k in keys if k.startswith('teacher')]
    key = (teacher or keys or [None])[-1]
    return None if key is None else metrics[key]


def gradient_stats(label: str, per_class: dict, raw_grad: Sequence[str]) -> Tuple[str, str,
                                                                                 str]:
    """(positive stat, negative stat, legend note) of a run's gradients for (a) and (b):
    the applied gradients when logged, else the legacy ones (see the module docstring)."""
    if label in raw_grad:
        return 'pos', 'neg', ' (raw)'
    if 'pos_app' in per_class:
        return 'pos_app', 'neg_app', ''
    return 'pos_w', 'neg_w', ' (matrix x w)'


def plot(runs: List[Tuple[str, dict, dict]], minority: Sequence[str], cls: Optional[str],
         out: str, raw_grad: Sequence[str] = ()) -> str:
    """Draw the six panels; returns ``out``. Runs labelled in ``raw_grad`` are drawn with
    the unweighted gradients (``pos``/``neg``) instead of the applied ones."""
    last = runs[-1][1]
    classes = [c for c in last['w'] if c != 'background'] if 'w' in last else \
        sorted(next(iter(last.values())))
    unknown = sorted(set(minority) - set(classes))
    if unknown:
        raise ValueError(f'minority classes {unknown} not in the logged classes {classes}')
    majority = [c for c in classes if c not in minority]
    cls = cls or minority[-1]
    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    colors = dict(maj='tab:orange', min='tab:blue')

    ax = axes[0, 0]
    for i, (label, per_class, _) in enumerate(runs):
        style = '--' if i == 0 and len(runs) > 1 else '-'
        pos_stat, neg_stat, note = gradient_stats(label, per_class, raw_grad)
        for group, names in (('maj', majority), ('min', minority)):
            steps, pos = _series(per_class, pos_stat, names)
            _, neg = _series(per_class, neg_stat, names)
            if len(steps):
                ax.plot(steps, np.nanmean(pos + neg, axis=1), style, color=colors[group],
                        label=f'{label} {group}{note}')
    ax.set(title='(a) mean applied gradient norm per class (Fig. 3)', xlabel='iteration')
    ax.legend(fontsize=8)

    ax = axes[0, 1]
    for i, (label, per_class, _) in enumerate(runs):
        style = '--' if i == 0 and len(runs) > 1 else '-'
        stats = gradient_stats(label, per_class, raw_grad)
        for stat, color in zip(stats[:2], ('tab:green', 'tab:red')):
            steps, val = _series(per_class, stat, [cls])
            if len(steps):
                ax.plot(steps, val[:, 0], style, color=color,
                        label=f'{label} {stat[:3]}{stats[2]}')
    ax.set(title=f'(b) applied positive vs negative gradient: {cls} (Fig. 5)',
           xlabel='iteration')
    ax.legend(fontsize=8)

    for ax, stat, title in ((axes[0, 2], 'w', '(c) GbR class weights'),
                            (axes[1, 0], 'thr', '(d) GbT thresholds')):
        label, per_class, _ = runs[-1]
        names = classes + (['background'] if stat == 'w' else [])
        steps, val = _series(per_class, stat, names)
        for j, name in enumerate(names):
            style = '-' if name in minority else ':'
            ax.plot(steps, val[:, j], style, label=name)
        ax.set(title=f'{title} ({label}; minority solid)', xlabel='iteration')
        ax.legend(fontsize=7, ncol=2)

    ax = axes[1, 1]
    for i, (label, per_class, _) in enumerate(runs):
        style = '--' if i == 0 and len(runs) > 1 else '-'
        for group, names in (('maj', majority), ('min', minority)):
            steps, val = _series(per_class, 'pseudo', names)
            if len(steps):
                ax.plot(steps, np.cumsum(np.nansum(val, axis=1)), style, color=colors[group],
                        label=f'{label} {group}')
    ax.set(title='(e) cumulative pseudo-labels', xlabel='iteration', yscale='symlog')
    ax.legend(fontsize=8)

    ax = axes[1, 2]
    width = 0.8 / len(runs)
    groups = ('all', 'maj', 'min')
    for i, (label, _, metrics) in enumerate(runs):
        vals = [_group_metric(metrics, g) for g in groups]
        vals = [np.nan if v is None else 100 * v for v in vals]
        bars = ax.bar(np.arange(3) + i * width, vals, width, label=label)
        ax.bar_label(bars, fmt='%.1f', fontsize=8)
    ax.set_xticks(np.arange(3) + width * (len(runs) - 1) / 2, groups)
    ax.set(title='(f) AP (teacher) on all / majority / minority', ylabel='AP')
    ax.legend(fontsize=8)

    fig.tight_layout()
    out_dir = osp.dirname(osp.abspath(out))
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_dir, suffix='.png')
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=100)
        os.replace(tmp, out)
    finally:
        plt.close(fig)
        if osp.exists(tmp):
            os.remove(tmp)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('runs', nargs='+', help='work dirs; the first is the baseline')
    parser.add_argument('--labels', nargs='+', default=None)
    parser.add_argument('--minority', nargs='+', required=True, help='minority class names')
    parser.add_argument('--cls', default=None, help='class of panel (b); default: last '
                        'minority class')
    parser.add_argument('--out', default='ci_ssod_curves.png')
    parser.add_argument('--raw-grad', nargs='*', default=(),
                        help='labels of runs to draw with unweighted gradients (logs written '
                        'before the applied gradients were logged, where pos_w/neg_w of a '
                        'reweight=False run carry the solved, unapplied weights)')
    args = parser.parse_args()
    labels = args.labels or [osp.basename(osp.normpath(r)) for r in args.runs]
    if len(labels) != len(args.runs):
        raise ValueError(f'{len(labels)} labels for {len(args.runs)} runs')
    runs = [(label, *load_run(find_scalars(r))) for label, r in zip(labels, args.runs)]
    print(plot(runs, args.minority, args.cls, args.out, args.raw_grad))


if __name__ == '__main__':
    main()
