"""Make the CI-SSOD class-imbalanced COCO splits (seed 004, MS-COCO sub-task).

    python tools/misc/split_coco_imbalance.py data/coco/annotations/instances_train2017.json \
        --split 1 --out-dir data/coco/semi_anns/ci_ssod [--percent 10] [--shots 10] [--seed 1]

* split 1: minority = the 20 PASCAL VOC classes; majority = the other 60 COCO classes.
* split 2: 40 minority classes = the 20 VOC classes plus the 20 other classes with the fewest
  instances in the given annotation file (the seed names no list for split 2; pass
  ``--minority`` to use another one).

Labeled set: a ``--percent`` random subset of the images with every minority annotation
removed, plus a few-shot set with all annotations: for each minority class, images are
added (in random order) until the class has ``--shots`` instances in it. All other images
form the unlabeled set (their annotations kept for analysis; Soft Teacher's unlabeled
pipeline ignores them). Written atomically:

    <out>/instances_train2017.split<k>.labeled.json
    <out>/instances_train2017.split<k>.unlabeled.json
    <out>/ci_ssod_split<k>_classes.json   {"minority_classes": [...], "majority_classes": [...]}
"""
import argparse
import json
import os
import os.path as osp
import tempfile
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

VOC_CLASSES_IN_COCO = ('person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train',
                       'boat', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow', 'bottle',
                       'chair', 'couch', 'potted plant', 'dining table', 'tv')


def write_json_atomic(path: str, obj) -> None:
    """Write JSON to a temporary file in the target folder, then rename it into place."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=osp.dirname(osp.abspath(path)), prefix='.tmp_')
    try:
        with os.fdopen(fd, 'w') as f:
            json.dump(obj, f)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def minority_classes_for_split(coco: dict, split: int,
                               minority: Optional[Sequence[str]] = None) -> List[str]:
    """The minority class names of a split (see the module docstring)."""
    names = [c['name'] for c in coco['categories']]
    if minority is not None:
        unknown = sorted(set(minority) - set(names))
        if unknown:
            raise ValueError(f'--minority names not in the annotation file: {unknown}')
        return list(minority)
    missing = sorted(set(VOC_CLASSES_IN_COCO) - set(names))
    if missing:
        raise ValueError(f'the annotation file lacks the VOC classes {missing}; it is not a '
                         'COCO 80-class file: pass --minority')
    if split == 1:
        return list(VOC_CLASSES_IN_COCO)
    if split == 2:
        id_to_name = {c['id']: c['name'] for c in coco['categories']}
        counts = Counter(id_to_name[a['category_id']] for a in coco['annotations'])
        others = [n for n in names if n not in VOC_CLASSES_IN_COCO]
        rarest = sorted(others, key=lambda n: (counts.get(n, 0), n))[:20]
        return list(VOC_CLASSES_IN_COCO) + rarest
    raise ValueError(f'split must be 1 or 2, got {split}')


def make_split(coco: dict, minority: Sequence[str], percent: float, shots: int,
               seed: int) -> Tuple[dict, dict]:
    """Labeled and unlabeled COCO dicts (see the module docstring)."""
    if not 0 < percent <= 100 or shots < 0:
        raise ValueError(f'need 0 < percent <= 100 and shots >= 0, got {percent}, {shots}')
    rng = np.random.default_rng(seed)
    minority_ids = {c['id'] for c in coco['categories'] if c['name'] in set(minority)}
    anns_by_img: Dict[int, List[dict]] = {}
    for ann in coco['annotations']:
        anns_by_img.setdefault(ann['image_id'], []).append(ann)
    image_ids = np.array(sorted(img['id'] for img in coco['images']))
    order = rng.permutation(image_ids)
    subset = set(order[:int(round(len(image_ids) * percent / 100))].tolist())

    few_shot, have = set(), Counter()
    for cat_id in sorted(minority_ids):
        for img_id in order.tolist():
            if have[cat_id] >= shots:
                break
            anns = anns_by_img.get(img_id, [])
            if img_id in few_shot or not any(a['category_id'] == cat_id for a in anns):
                continue
            few_shot.add(img_id)
            have.update(a['category_id'] for a in anns if not a.get('iscrowd', 0))

    labeled_imgs = subset | few_shot
    images = {img['id']: img for img in coco['images']}
    lab_anns = []
    for img_id in sorted(labeled_imgs):
        for ann in anns_by_img.get(img_id, []):
            if img_id in few_shot or ann['category_id'] not in minority_ids:
                lab_anns.append(ann)
    unl_ids = [i for i in image_ids.tolist() if i not in labeled_imgs]
    common = {k: v for k, v in coco.items() if k not in ('images', 'annotations')}
    labeled = dict(common, images=[images[i] for i in sorted(labeled_imgs)],
                   annotations=lab_anns)
    unlabeled = dict(common, images=[images[i] for i in unl_ids],
                     annotations=[a for i in unl_ids for a in anns_by_img.get(i, [])])
    return labeled, unlabeled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('ann_file', help='COCO instances_train2017.json')
    parser.add_argument('--split', type=int, choices=(1, 2), default=1)
    parser.add_argument('--out-dir', default='data/coco/semi_anns/ci_ssod')
    parser.add_argument('--percent', type=float, default=10.0,
                        help='percent of images in the labeled subset (minority anns removed)')
    parser.add_argument('--shots', type=int, default=10,
                        help='instances per minority class in the few-shot labeled set')
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--minority', nargs='+', default=None,
                        help='explicit minority class names (overrides the split default)')
    args = parser.parse_args()
    if not osp.isfile(args.ann_file):
        raise FileNotFoundError(f'annotation file not found: {args.ann_file}')
    with open(args.ann_file) as f:
        try:
            coco = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f'{args.ann_file} is not valid JSON: {err}') from err
    for key in ('images', 'annotations', 'categories'):
        if key not in coco:
            raise KeyError(f'{args.ann_file} is not a COCO instances file: no {key!r}')
    minority = minority_classes_for_split(coco, args.split, args.minority)
    labeled, unlabeled = make_split(coco, minority, args.percent, args.shots, args.seed)
    stem = osp.join(args.out_dir, f'instances_train2017.split{args.split}')
    write_json_atomic(f'{stem}.labeled.json', labeled)
    write_json_atomic(f'{stem}.unlabeled.json', unlabeled)
    names = [c['name'] for c in coco['categories']]
    groups = dict(minority_classes=minority,
                  majority_classes=[n for n in names if n not in set(minority)])
    write_json_atomic(osp.join(args.out_dir, f'ci_ssod_split{args.split}_classes.json'), groups)
    print(f"split{args.split}: {len(labeled['images'])} labeled images "
          f"({len(labeled['annotations'])} boxes), {len(unlabeled['images'])} unlabeled; "
          f'{len(minority)} minority classes -> {args.out_dir}')


if __name__ == '__main__':
    main()
