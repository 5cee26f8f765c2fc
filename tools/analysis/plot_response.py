"""Plot the unlabeled-image response and validation AP over training (seed 000 Fig. 3 style).

Reads mmengine's ``vis_data/scalars.json`` (LocalVisBackend) of one or more work dirs:
``response_<net>`` (logged by PoseDual/PoseCons every logger interval) and any validation
metric matching ``--metric`` (e.g. ``coco/AP``: ``net1/coco/AP``, ``ensemble/coco/AP``, ...).

    python tools/analysis/plot_response.py work_dirs/posedual work_dirs/posecons \
        --labels PoseDual PoseCons --out response.png
"""
import argparse
import glob
import json
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def read_scalars(work_dir: str) -> List[dict]:
    """All records of the latest run in ``work_dir`` (or of a scalars.json path)."""
    if work_dir.endswith('.json'):
        files = [work_dir]
    else:
        files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not files:
        raise FileNotFoundError(f'no */vis_data/scalars.json under {work_dir}')
    with open(files[-1]) as f:
        return [json.loads(line) for line in f if line.strip()]


def curves(records: List[dict], metric: str) -> Tuple[Dict[str, list], Dict[str, list]]:
    """``response_*`` curves over iterations and ``*metric`` curves over validation steps."""
    response, scores = defaultdict(list), defaultdict(list)
    for rec in records:
        step = rec.get('iter', rec.get('step'))
        for key, value in rec.items():
            if key.startswith('response_'):
                response[key[len('response_'):]].append((step, value))
            elif key.endswith(metric) and not key.startswith('train'):
                scores[key].append((rec.get('step'), value))
    return dict(response), dict(scores)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dirs', nargs='+')
    parser.add_argument('--labels', nargs='*')
    parser.add_argument('--metric', default='coco/AP')
    parser.add_argument('--out', default='response.png')
    args = parser.parse_args()
    labels = args.labels or [osp.basename(osp.normpath(d)) for d in args.work_dirs]
    fig, (ax_r, ax_m) = plt.subplots(1, 2, figsize=(12, 4.5))
    for work_dir, label in zip(args.work_dirs, labels):
        response, scores = curves(read_scalars(work_dir), args.metric)
        for net, points in sorted(response.items()):
            xs, ys = zip(*points)
            ax_r.plot(xs, ys, label=f'{label} {net}')
        for key, points in sorted(scores.items()):
            xs, ys = zip(*points)
            ax_m.plot(xs, ys, marker='o', label=f'{label} {key}')
    ax_r.set(title='response on unlabeled images (mean max heatmap value)', xlabel='iteration',
             ylabel='response')
    ax_m.set(title=f'validation {args.metric}', xlabel='validation step (iter/epoch)',
             ylabel=args.metric)
    for ax in (ax_r, ax_m):
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
