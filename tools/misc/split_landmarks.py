"""Nested labeled/unlabeled splits of a landmark file (STLD protocol, seed 003).

The image list is shuffled once with --seed (1234 in the release) and the first N images are
labeled, so the splits for growing N are nested.

Example:
    python tools/misc/split_landmarks.py --ann-file data/300w/annotations/face_landmarks_300w_train.json \
        --num-labeled 50 157 315 630 --seed 1234 --out-dir data/300w/semi_anns
Writes <stem>.labeled@<N>.json and <stem>.unlabeled@<N>.json.
"""
import argparse
import os.path as osp

from mmssl.datasets.splits import load_coco, split_nested_landmarks, write_coco


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--ann-file', required=True)
    parser.add_argument('--num-labeled', type=int, nargs='+', required=True)
    parser.add_argument('--seed', type=int, default=1234)
    parser.add_argument('--out-dir', required=True)
    args = parser.parse_args()
    coco = load_coco(args.ann_file)
    stem = osp.splitext(osp.basename(args.ann_file))[0]
    for n, (lab, unl) in split_nested_landmarks(coco, args.num_labeled, args.seed).items():
        for name, part in (('labeled', lab), ('unlabeled', unl)):
            path = write_coco(part, osp.join(args.out_dir, f'{stem}.{name}@{n}.json'))
            print(f'{path}: {len(part["images"])} images')


if __name__ == '__main__':
    main()
