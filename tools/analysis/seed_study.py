"""Run arms (configs + options) over seeds and print mean +- std and paired differences.

    python tools/analysis/seed_study.py WORK_DIR \
        --arm supervised=configs/...supervised.py \
        --arm posedual=configs/...posedual.py,model.unsup_weight=1 \
        --seeds 0 1 2 --keys coco/AP PCK --baseline supervised \
        [--options train_cfg.max_iters=600 ...] [--out table.md] [--summarize-only]

Each run is ``tools/train.py CONFIG --cfg-options <arm options> <--options>
randomness.seed=S`` into ``WORK_DIR/ARM/seedS``, then ``tools/test.py`` of its last checkpoint
writes ``WORK_DIR/ARM/seedS/metrics.json``. Finished runs (a metrics file) are not run again,
so an interrupted study resumes. Keys are matched per arm: ``--keys coco/AP`` reads
``coco/AP`` or, for a multi-network arm, ``--key-prefix ARM=ensemble/`` reads ``ensemble/coco/AP``.
"""
import argparse
import os
import os.path as osp
import subprocess
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmssl.utils.seed_study import (Arm, format_markdown, last_checkpoint,  # noqa: E402
                                    load_metrics, metrics_file, run_dir, summarize,
                                    test_command, train_command, write_atomic)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dir')
    parser.add_argument('--arm', action='append', required=True, help='NAME=CONFIG[,k=v...]')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--keys', nargs='+', required=True)
    parser.add_argument('--key-prefix', action='append', default=[],
                        help='ARM=PREFIX: read PREFIX + key from that arm\'s metrics')
    parser.add_argument('--baseline', help='arm the paired differences refer to '
                        '(default: the first)')
    parser.add_argument('--options', nargs='*', default=[],
                        help='cfg-options of every arm (the shared schedule)')
    parser.add_argument('--out', help='write the markdown tables here too')
    parser.add_argument('--summarize-only', action='store_true')
    return parser.parse_args()


def main():
    args = parse_args()
    arms = [Arm.parse(spec) for spec in args.arm]
    prefixes = dict(p.split('=', 1) for p in args.key_prefix)
    py = sys.executable
    if not args.summarize_only:
        for seed in args.seeds:  # seed-major: an interrupted study has complete pairs
            for arm in arms:
                if osp.exists(metrics_file(args.work_dir, arm.name, seed)):
                    continue
                directory = run_dir(args.work_dir, arm.name, seed)
                print(f'[seed_study] {arm.name} seed {seed} -> {directory}', flush=True)
                subprocess.run(train_command(py, arm, seed, args.work_dir, args.options),
                               check=True, env=dict(os.environ))
                subprocess.run(test_command(py, arm, seed, args.work_dir,
                                            last_checkpoint(directory)),
                               check=True, env=dict(os.environ))
    metrics = load_metrics(args.work_dir, [a.name for a in arms], args.seeds)
    for arm, runs in metrics.items():  # arm-specific key prefixes to the common names
        prefix = prefixes.get(arm, '')
        for seed, m in runs.items():
            missing = [prefix + k for k in args.keys if prefix + k not in m]
            if missing:
                raise KeyError(f'{metrics_file(args.work_dir, arm, seed)} lacks {missing}; '
                               f'it has {sorted(m)}')
            runs[seed] = {k: m[prefix + k] for k in args.keys}
    summary = summarize(metrics, args.keys, args.baseline or arms[0].name)
    table = format_markdown(summary, args.keys)
    print(table)
    if args.out:
        write_atomic(args.out, table)


if __name__ == '__main__':
    main()
