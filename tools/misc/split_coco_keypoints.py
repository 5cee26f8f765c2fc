"""Split a COCO keypoints file into labeled / unlabeled COCO files.

Examples:
    # PoseDual COCO-1K: first 1000 instances labeled; unlabeled = persons with >= 1 keypoint
    # (the paper's COCO 150K; --unlabeled-min-keypoints 0 keeps every person box)
    python tools/misc/split_coco_keypoints.py data/coco/annotations/person_keypoints_train2017.json \
        --first-n 1000 --out-dir data/coco/semi_anns
    # 10 % of the images labeled, fold 1
    python tools/misc/split_coco_keypoints.py ANN --percent 10 --fold 1 --out-dir OUT
Writes <stem>.labeled@<tag>.json and <stem>.unlabeled@<tag>.json.
"""
import argparse
import os.path as osp

from mmssl.datasets.splits import (load_coco, split_first_n_instances, split_random_percent,
                                   write_coco)
from mmssl.datasets.unlabeled_topdown_dataset import num_labeled_keypoints


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('ann_file')
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument('--first-n', type=int, nargs='+',
                       help='label the first N instances (seed 000 protocol)')
    group.add_argument('--percent', type=float, nargs='+', help='label this %% of the images')
    parser.add_argument('--fold', type=int, nargs='+', default=[1], help='seeds for --percent')
    parser.add_argument('--unlabeled', choices=['all', 'rest'], default='all',
                        help='with --first-n: unlabeled = all boxes (paper) or the rest')
    parser.add_argument('--unlabeled-min-keypoints', type=int, default=1,
                        help='with --first-n: unlabeled persons need this many labeled '
                        'keypoints (1: the paper\'s COCO 150K; 0: every person box)')
    parser.add_argument('--out-dir', required=True)
    args = parser.parse_args()
    coco = load_coco(args.ann_file)
    stem = osp.splitext(osp.basename(args.ann_file))[0]
    jobs = []
    if args.first_n:
        jobs = [(f'first{n}', split_first_n_instances(coco, n, args.unlabeled,
                                                      args.unlabeled_min_keypoints))
                for n in args.first_n]
        boxes = [a for a in coco['annotations'] if not a.get('iscrowd', 0)]
        kept = sum(num_labeled_keypoints(a) >= args.unlabeled_min_keypoints for a in boxes)
        print(f'{args.ann_file}: {len(boxes)} non-crowd person boxes, {kept} with >= '
              f'{args.unlabeled_min_keypoints} labeled keypoints')
    else:
        jobs = [(f'{fold}@{p:g}', split_random_percent(coco, p, fold))
                for p in args.percent for fold in args.fold]
    for tag, (lab, unl) in jobs:
        for name, part in (('labeled', lab), ('unlabeled', unl)):
            path = write_coco(part, osp.join(args.out_dir, f'{stem}.{name}@{tag}.json'))
            print(f'{path}: {len(part["images"])} images, {len(part["annotations"])} '
                  'instances')


if __name__ == '__main__':
    main()
