"""Print what a training run of a config will really do (its recipe card).

    python tools/analysis/print_recipe.py CONFIG [--gpus N] [--dataset-sizes labeled=1000 ...]

Devices x per-device batch (labeled:unlabeled), samples and iterations per epoch and in total,
warm-up, peak learning rate with and without ``--auto-scale-lr``, LR steps in iterations,
input/heatmap size, flip test, evaluator and ``save_best`` key; every train stage of a
self-training job. Without ``--gpus``/``--dataset-sizes`` the config's metafile row gives the
launch it was written for and the paper's dataset sizes; the metafile's recipe is printed
beside it, with the deviations the metafile states.
"""
import argparse
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_sizes(items):
    sizes = {}
    for item in items or []:
        if '=' not in item:
            raise SystemExit(f'--dataset-sizes takes NAME=COUNT items, got {item!r}')
        name, count = item.split('=', 1)
        sizes[name] = int(count)
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--gpus', type=int, help='devices (default: the metafile launch)')
    parser.add_argument('--dataset-sizes', nargs='+', metavar='NAME=COUNT',
                        help='samples per training source, e.g. labeled=1000 '
                        'unlabeled=150000 (default: the paper sizes of the metafile)')
    args = parser.parse_args()
    from mmengine.config import Config
    from mmssl.zoo import compare, load_model_index, recipe_card, source_names
    cfg = Config.fromfile(args.config)
    rel = osp.relpath(osp.abspath(args.config), ROOT)
    models = load_model_index(ROOT).models_of(rel) if osp.isfile(
        osp.join(ROOT, 'model-index.yml')) else []
    model = models[0] if models else None
    gpus = args.gpus or (int(model.shipped.get('gpus', 1)) if model else 1)
    sizes = parse_sizes(args.dataset_sizes)
    if not sizes and model:
        sizes = dict(model.recipe.get('dataset_sizes') or {})
    card = recipe_card(cfg, rel, gpus, sizes)
    print(card.format())
    if not sizes:
        print(f'(no dataset sizes: pass --dataset-sizes {" ".join(n + "=N" for n in source_names(cfg))})')
    if model:
        print(f'\nmetafile     {osp.relpath(model.metafile, ROOT)} ({model.name})')
        print(f'recipe       {model.recipe}')
        for key, (ours, theirs) in compare(card, model).items():
            why = model.deviations.get(key, 'NOT STATED IN THE METAFILE')
            print(f'deviation    {key}: config {ours} vs recipe {theirs}: {why}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
