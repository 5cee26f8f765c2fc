"""Per-round metrics of a self-training job as one flat JSON (a seed-study metrics file).

    python tools/analysis/stld_round_metrics.py WORK_DIR [--out WORK_DIR/metrics.json]

Reads ``WORK_DIR/self_training_state.json`` (with ``tools/analysis/plot_stld.py``'s reader) and
writes, in percent, ``round{t}/NME`` (test NME of round t's model), ``round{t}/AUC`` (AUC@0.1)
and ``round{t}/pseudo_NME`` (round t's pseudo-labels against the hidden labels, when the job
had ``pseudo_gt_ann_file``), plus the cost: ``own_h``, the hours of the stages the job ran
itself, ``reused_h`` those of the stages it took from another job (``reuse_stages_from``),
and ``reused_stages``. ``tools/analysis/seed_study.py --summarize-only`` tabulates these files
over arms and seeds (``WORK/ARM/seedS/metrics.json``).
"""
import argparse
import importlib.util
import json
import os.path as osp
import sys
from typing import Dict

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmssl.utils.seed_study import write_atomic  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    'plot_stld', osp.join(osp.dirname(osp.abspath(__file__)), 'plot_stld.py'))
plot_stld = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(plot_stld)


def round_metrics(work_dir: str) -> Dict[str, float]:
    """The flat metrics of the job in ``work_dir`` (see the module docstring)."""
    curves = plot_stld.read_run(work_dir)
    out: Dict[str, float] = {}
    for key, name in (('test', 'NME'), ('auc', 'AUC'), ('pseudo', 'pseudo_NME')):
        for rnd, value in sorted(curves[key].items()):
            out[f'round{rnd}/{name}'] = 100 * value
    with open(osp.join(work_dir, plot_stld.STATE_FILE)) as f:
        completed = json.load(f)['completed']
    own = [r for r in completed.values() if 'reused_from' not in r]
    reused = [r for r in completed.values() if 'reused_from' in r]
    out['own_h'] = sum(r.get('timing', {}).get('total_s', 0.) for r in own) / 3600
    out['reused_h'] = sum(r.get('timing', {}).get('total_s', 0.) for r in reused) / 3600
    out['reused_stages'] = len(reused)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dir')
    parser.add_argument('--out', help='default: WORK_DIR/metrics.json')
    args = parser.parse_args()
    metrics = round_metrics(args.work_dir)
    write_atomic(args.out or osp.join(args.work_dir, 'metrics.json'),
                 json.dumps(metrics, indent=1))
    print(' '.join(f'{k}={v:.4g}' for k, v in metrics.items()))


if __name__ == '__main__':
    main()
