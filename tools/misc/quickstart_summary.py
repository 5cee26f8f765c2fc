"""Print the summary of ``tools/quickstart.sh``: the supervised start (both networks and their
heatmap ensemble) and PoseDual trained from it, on the same val split, side by side.

    python tools/misc/quickstart_summary.py SUP_CONFIG DUAL_CONFIG START.json DUAL.json \
        [--seeds 0 1]

START.json / DUAL.json: ``tools/test.py --out`` of the PoseDual config on the supervised start
checkpoint (``tools/misc/pose_dual_init.py``) and on the trained PoseDual checkpoint.
"""
import argparse
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

PREFIX = '[mmssl quickstart]'
KEYS = ('coco/AP', 'coco/AP .5', 'coco/AR', 'PCK')
MODES = ('net1', 'net2', 'ensemble')
GAIN_KEYS = ('coco/AP', 'PCK')


def format_metrics(metrics: Dict[str, float], mode: str) -> str:
    """``coco/AP=0.0930, coco/AP .5=0.4682, ...`` of one prediction mode."""
    missing = [k for k in KEYS if f'{mode}/{k}' not in metrics]
    if missing:
        raise KeyError(f'{PREFIX} metrics of {mode!r} lack {missing}; got {sorted(metrics)}')
    return ', '.join(f'{k}={metrics[f"{mode}/{k}"]:.4f}' for k in KEYS)


def format_summary(header: str, rows: Sequence[Tuple[str, str, Dict[str, float]]]) -> str:
    """The summary: ``header``, then per ``(name, title, metrics)`` row one line per network
    and the ensemble, then the last row's ensemble minus the first row's."""
    lines = [f'{PREFIX} {header}']
    for name, title, metrics in rows:
        lines.append(f'  {name}: {title}')
        lines += [f'    {mode:10s}{format_metrics(metrics, mode)}' for mode in MODES]
    (first_name, _, first), (last_name, _, last) = rows[0], rows[-1]
    gain = ', '.join(f'{k} {last[f"ensemble/{k}"] - first[f"ensemble/{k}"]:+.4f}'
                     for k in GAIN_KEYS)
    lines.append(f'  {last_name} - {first_name} (ensemble): {gain}')
    return '\n'.join(lines)


def _count(ann_file: str) -> Optional[int]:
    if not osp.isfile(ann_file):
        return None
    with open(ann_file) as f:
        return len(json.load(f)['annotations'])


def describe(sup_cfg, dual_cfg, seeds: Sequence[int]) -> Tuple[str, List[Tuple[str, str]]]:
    """Header and ``(name, title)`` of the rows from the two configs (schedules, data
    sizes)."""
    sources = dual_cfg.train_dataloader.dataset.get('datasets', [])
    sizes = [_count(osp.join(ds.get('data_root', ''), ds.ann_file)) for ds in sources]
    data = 'synthetic bodies'
    if len(sizes) == 2 and None not in sizes:
        data += f': {sizes[0]} labeled persons + {sizes[1]} unlabeled boxes'
    header = f'{data}; val split, GT boxes, no flip test'
    sup = (f'{sup_cfg.train_cfg.max_iters} iters on the labeled persons '
           f'(net1 seed {seeds[0]}, net2 seed {seeds[1]})')
    dual = (f'{dual_cfg.train_cfg.max_iters} more iters from the supervised pair, '
            'labeled + unlabeled')
    return header, [('supervised', sup), ('PoseDual', dual)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('sup_config')
    parser.add_argument('dual_config')
    parser.add_argument('start_metrics', help='metrics of the supervised start (PoseDual '
                        'config, tools/test.py --out)')
    parser.add_argument('dual_metrics', help='metrics of the trained PoseDual model')
    parser.add_argument('--seeds', type=int, nargs=2, default=(0, 1),
                        help='seeds of the two supervised models')
    args = parser.parse_args()
    from mmengine.config import Config
    load = lambda path: Config.fromfile(path, import_custom_modules=False)  # noqa: E731
    header, titles = describe(load(args.sup_config), load(args.dual_config), args.seeds)
    rows = []
    for (name, title), path in zip(titles, (args.start_metrics, args.dual_metrics)):
        with open(path) as f:
            rows.append((name, title, json.load(f)))
    print(format_summary(header, rows))


if __name__ == '__main__':
    main()
