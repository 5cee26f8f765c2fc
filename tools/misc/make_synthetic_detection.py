"""Write the synthetic class-imbalanced detection set (COCO format) used by CI-SSOD.

    python tools/misc/make_synthetic_detection.py [--out data/ci_ssod_synthetic] [--seed 0]
        [--num-classes 6] [--num-train 600] [--num-labeled 60] [--num-val 120]
        [--image-size 128] [--imbalance-ratio 50] [--force]

Deterministic: the same arguments give the same files. Existing data is kept unless --force.
The class groups (majority / minority) are in <out>/meta.json.
"""
import argparse
import json
import os.path as osp

from mmssl.datasets.synthetic_detection import generate_synthetic_detection


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/ci_ssod_synthetic')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-classes', type=int, default=6)
    parser.add_argument('--num-train', type=int, default=600)
    parser.add_argument('--num-labeled', type=int, default=60)
    parser.add_argument('--num-val', type=int, default=120)
    parser.add_argument('--image-size', type=int, default=128)
    parser.add_argument('--imbalance-ratio', type=float, default=50.0)
    parser.add_argument('--num-minority', type=int, default=None)
    parser.add_argument('--min-labeled-per-class', type=int, default=2)
    parser.add_argument('--force', action='store_true', help='regenerate existing data')
    args = parser.parse_args()
    meta = osp.join(args.out, 'meta.json')
    if osp.isfile(meta) and not args.force:
        print(f'synthetic detection data present in {args.out} (use --force to regenerate)')
        return
    paths = generate_synthetic_detection(
        args.out,
        num_classes=args.num_classes,
        num_train=args.num_train,
        num_labeled=args.num_labeled,
        num_val=args.num_val,
        image_size=args.image_size,
        imbalance_ratio=args.imbalance_ratio,
        num_minority=args.num_minority,
        min_labeled_per_class=args.min_labeled_per_class,
        seed=args.seed)
    with open(paths['meta']) as f:
        info = json.load(f)
    print(json.dumps({k: info[k] for k in ('classes', 'minority_classes', 'train_instances',
                                           'labeled_instances')}, indent=1))
    for key, path in paths.items():
        print(f'{key}: {path}')


if __name__ == '__main__':
    main()
