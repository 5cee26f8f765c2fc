"""Plot the CI-SSOD analysis figures of seed 004 (Figs. 1, 2 and 4, sampling histograms).

    python tools/analysis/plot_ci_ssod_analysis.py RUN_DIR [RUN_DIR ...] \
        --labels "Soft Teacher" Ours [--minority diamond cross ring] \
        [--top 10] --out ci_ssod_analysis.png [--json summary.json]

RUN_DIR is a work dir (or a timestamped run inside it) trained with
``CISSODPseudoLabelQualityHook`` and / or ``CISSODSamplingHistogramHook``; their per-class
scalars are read from ``vis_data/scalars.json`` (LocalVisBackend), the latest logged value
of each (cumulative since the start of training). Panels, one bar per run and class:

(a) pseudo-label precision, (b) pseudo-label recall (Figs. 1 / 2: against the unlabeled
    split's ground truth); (c) mean teacher score of the predictions (Fig. 4);
(d) / (e) share of the instances in the sampled labeled / unlabeled images per class (what
    RFS / CrS change; the share, so that runs of different length compare).

With ``--top K`` only the K majority and K minority classes of the highest recall in the last
run are drawn (the paper's "Top-10" selection was by AP; pass the classes with ``--classes``
to reproduce one). Minority class names are drawn in red. ``--json`` also writes the values.
"""
import argparse
import glob
import json
import os
import os.path as osp
import tempfile
from typing import Dict, List, Optional, Sequence

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

PANELS = (('ci_ssod_analysis/precision/', '(a) pseudo-label precision'),
          ('ci_ssod_analysis/recall/', '(b) pseudo-label recall'),
          ('ci_ssod_analysis/mean_score/', '(c) mean prediction score'),
          ('ci_ssod_sampling/labeled/', '(d) sampled labeled instances (share)'),
          ('ci_ssod_sampling/unlabeled/', '(e) sampled unlabeled instances (share)'))


def find_scalars(run_dir: str) -> str:
    """The newest ``vis_data/scalars.json`` under ``run_dir``."""
    direct = osp.join(run_dir, 'vis_data', 'scalars.json')
    if osp.isfile(direct):
        return direct
    found = sorted(glob.glob(osp.join(run_dir, '*', 'vis_data', 'scalars.json')))
    if not found:
        raise FileNotFoundError(f'no vis_data/scalars.json under {run_dir} (train with a '
                                'LocalVisBackend and the CI-SSOD analysis hooks)')
    return found[-1]


def load_latest(path: str) -> Dict[str, float]:
    """Latest value of every analysis scalar in a ``scalars.json``."""
    latest: Dict[str, float] = {}
    with open(path) as f:
        for num, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}:{num}: not JSON: {err}') from err
            for key, value in entry.items():
                if key.startswith(('ci_ssod_analysis/', 'ci_ssod_sampling/')):
                    latest[key] = float(value)
    if not latest:
        raise ValueError(f'{path}: no ci_ssod_analysis/ or ci_ssod_sampling/ scalars (add '
                         'CISSODPseudoLabelQualityHook / CISSODSamplingHistogramHook)')
    return latest


def panel_values(latest: Dict[str, float], prefix: str,
                 classes: Sequence[str]) -> Optional[np.ndarray]:
    """Per-class values of one panel (sampling counts as shares); None if not logged."""
    if not any(k.startswith(prefix) for k in latest):
        return None
    values = np.array([latest.get(prefix + c, np.nan) for c in classes], dtype=np.float64)
    if prefix.startswith('ci_ssod_sampling/'):
        total = np.nansum([v for k, v in latest.items() if k.startswith(prefix)])
        values = values / total if total > 0 else values * np.nan
    return values


def class_names(latest: Dict[str, float]) -> List[str]:
    names: List[str] = []
    for key in latest:
        for prefix, _ in PANELS:
            if key.startswith(prefix) and key[len(prefix):] not in names:
                names.append(key[len(prefix):])
    return names


def select_classes(latest: Dict[str, float], names: List[str], minority: Sequence[str],
                   top: Optional[int]) -> List[str]:
    if not top:
        return names
    recall = {c: latest.get('ci_ssod_analysis/recall/' + c, float('nan')) for c in names}

    def best(group):
        return sorted(group, key=lambda c: -np.nan_to_num(recall[c], nan=-1.0))[:top]
    maj = best([c for c in names if c not in minority])
    mino = best([c for c in names if c in minority])
    return maj + mino


def plot(runs: List[Dict[str, float]], labels: List[str], classes: List[str],
         minority: Sequence[str], out: str) -> Dict[str, Dict[str, List[float]]]:
    panels = [(p, t) for p, t in PANELS if any(panel_values(r, p, classes) is not None
                                             for r in runs)]
    fig, axes = plt.subplots(len(panels), 1, figsize=(max(6, 0.5 * len(classes) + 2),
                                                      2.6 * len(panels)), squeeze=False)
    width = 0.8 / len(runs)
    x = np.arange(len(classes))
    summary: Dict[str, Dict[str, List[float]]] = {}
    for ax, (prefix, title) in zip(axes[:, 0], panels):
        for k, (run, label) in enumerate(zip(runs, labels)):
            values = panel_values(run, prefix, classes)
            if values is None:
                continue
            ax.bar(x + (k - (len(runs) - 1) / 2) * width, np.nan_to_num(values), width,
                   label=label)
            summary.setdefault(title, {})[label] = [float(v) for v in values]
        ax.set_title(title, fontsize=9)
        ax.set_xticks(x)
        ax.set_xticklabels(classes, rotation=60, fontsize=7, ha='right')
        for tick, name in zip(ax.get_xticklabels(), classes):
            if name in minority:
                tick.set_color('red')
        ax.legend(fontsize=7)
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
    return summary


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('runs', nargs='+', help='work dirs of the runs')
    parser.add_argument('--labels', nargs='+', default=None)
    parser.add_argument('--minority', nargs='*', default=[])
    parser.add_argument('--classes', nargs='*', default=None, help='classes to draw')
    parser.add_argument('--top', type=int, default=None)
    parser.add_argument('--out', default='ci_ssod_analysis.png')
    parser.add_argument('--json', default=None, help='also write the plotted values here')
    args = parser.parse_args(argv)
    labels = args.labels or [osp.basename(osp.normpath(r)) for r in args.runs]
    if len(labels) != len(args.runs):
        raise ValueError(f'{len(labels)} labels for {len(args.runs)} runs')
    runs = [load_latest(find_scalars(r)) for r in args.runs]
    names = args.classes or select_classes(runs[-1], class_names(runs[-1]), args.minority,
                                           args.top)
    summary = plot(runs, labels, names, args.minority, args.out)
    if args.json:
        fd, tmp = tempfile.mkstemp(dir=osp.dirname(osp.abspath(args.json)), suffix='.json')
        with os.fdopen(fd, 'w') as f:
            json.dump(dict(classes=names, panels=summary), f, indent=1)
        os.replace(tmp, args.json)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
