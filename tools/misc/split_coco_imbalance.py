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

The other two sub-tasks (library: ``mmssl/datasets/ci_ssod_splits.py``; the release's
protocol and what mmssl adds to it are described there):

    python tools/misc/split_coco_imbalance.py data/lvis/annotations/lvis_v1_train.json \
        --protocol lvis [--percent 10] [--shots 0] [--labeled-ids IDS]
    python tools/misc/split_coco_imbalance.py \
        data/objects365/annotations/zhiyuan_objv2_train.json --protocol objects365 \
        --coco-ann data/coco/annotations/instances_train2017.json [--shots 10] [--percent 0]

* lvis (out: data/lvis/annotations): labeled = a random ``--percent`` of the LVIS v1 train
  images with all their annotations (plus, with ``--shots``, images until every rare class
  has that many instances); ``lvis_v1_train_lvis_label.json``,
  ``lvis_v1_train_lvis_unlabel.json`` (the release's names) and
  ``ci_ssod_lvis_v1_classes.json`` (rare / common / frequent class names).
* objects365 (out: data/objects365/semi_anns/ci_ssod): labeled = COCO train2017 relabeled to
  Objects365 classes + Objects365 images until each of the 287 classes without a COCO
  counterpart (the minority) has ``--shots`` instances; ``objects365_train.labeled.json``,
  ``objects365_train.unlabeled.json``, ``ci_ssod_objects365_classes.json``. The COCO images
  are named ``train2017/<file>``: link them next to the Objects365 ``patch*`` folders,
  ``ln -s $PWD/data/coco/train2017 data/objects365/train/train2017``.

``--labeled-ids`` (a text file with one image id a line, as the release reads, or a JSON
list / COCO file whose image ids are taken, e.g. the release's published label file) fixes
the labeled images instead of sampling them.
"""
import argparse
import json
import os.path as osp
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from mmssl.datasets.chunked_json import atomic_json_dump_chunked
from mmssl.datasets.ci_ssod_splits import (OUTPUTS, group_counts, read_image_ids, split_lvis,
                                           split_objects365)
from mmssl.datasets.coco_to_objects365 import COCO_TO_OBJECTS365
from mmssl.datasets.splits import load_coco
from mmssl.utils.atomic_files import atomic_json_dump

VOC_CLASSES_IN_COCO = ('person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train',
                       'boat', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow', 'bottle',
                       'chair', 'couch', 'potted plant', 'dining table', 'tv')


def write_json_atomic(path: str, obj) -> None:
    """Write JSON to a temporary file in the target folder, then rename it into place."""
    atomic_json_dump(obj, path)


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


PROTOCOL_DEFAULTS = dict(coco=dict(percent=10.0, shots=10,
                                   out_dir='data/coco/semi_anns/ci_ssod'),
                         lvis=dict(percent=10.0, shots=0, out_dir=OUTPUTS['lvis']['out_dir']),
                         objects365=dict(percent=0.0, shots=10,
                                         out_dir=OUTPUTS['objects365']['out_dir']))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command line; protocol-dependent defaults are filled in here."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('ann_file', help='COCO instances_train2017.json, LVIS '
                        'lvis_v1_train.json or Objects365 zhiyuan_objv2_train.json')
    parser.add_argument('--protocol', choices=tuple(PROTOCOL_DEFAULTS), default='coco',
                        help='CI-SSOD sub-task (default: coco)')
    parser.add_argument('--split', type=int, choices=(1, 2), default=None,
                        help='coco: split 1 or 2 (default 1)')
    parser.add_argument('--out-dir', default=None, help='default: per protocol, see above')
    parser.add_argument('--percent', type=float, default=None,
                        help='percent of images in the random labeled part (coco: minority '
                        'anns removed; default coco 10, lvis 10, objects365 0)')
    parser.add_argument('--shots', type=int, default=None,
                        help='instances per minority class in the few-shot labeled part '
                        '(default coco 10, lvis 0 (rare classes), objects365 10)')
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--minority', nargs='+', default=None,
                        help='coco: explicit minority class names (overrides the split default)')
    parser.add_argument('--coco-ann', default=None,
                        help='objects365: COCO instances_train2017.json (labeled, relabeled)')
    parser.add_argument('--coco-img-dir', default='train2017',
                        help='objects365: folder written in front of the COCO file names')
    parser.add_argument('--labeled-ids', default=None,
                        help='lvis / objects365: file of labeled image ids (replaces sampling)')
    args = parser.parse_args(argv)
    if args.protocol != 'coco' and (args.split is not None or args.minority is not None):
        parser.error('--split and --minority are options of --protocol coco')
    if args.protocol == 'coco' and args.labeled_ids is not None:
        parser.error('--labeled-ids is an option of --protocol lvis / objects365')
    if (args.protocol == 'objects365') != (args.coco_ann is not None):
        parser.error('--coco-ann (COCO instances_train2017.json) is needed by, and only by, '
                     '--protocol objects365')
    for key, value in PROTOCOL_DEFAULTS[args.protocol].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.split = 1 if args.split is None else args.split
    return args


def _summary(title: str, coco: dict, groups: Dict[str, List[str]], path: str) -> str:
    lines = [f"{title}: {len(coco['images'])} images, {len(coco['annotations'])} instances "
             f'-> {path}']
    for group, (classes, instances, present) in group_counts(coco, groups).items():
        lines.append(f'  {group}: {classes} classes, {instances} instances, {present} '
                     'classes with an instance')
    return '\n'.join(lines)


def main_lvis_objects365(args: argparse.Namespace) -> Tuple[str, str, str]:
    """The lvis / objects365 protocols; returns the written (labeled, unlabeled, groups)."""
    data = load_coco(args.ann_file)
    labeled_ids = None
    if args.labeled_ids is not None:
        labeled_ids = (args.labeled_ids, read_image_ids(args.labeled_ids))
    record = dict(protocol=args.protocol, ann_file=args.ann_file, percent=args.percent,
                  shots=args.shots, seed=args.seed, labeled_ids=args.labeled_ids)
    if args.protocol == 'lvis':
        labeled, unlabeled, groups = split_lvis(data, args.ann_file, args.percent, args.shots,
                                                args.seed, labeled_ids)
        extra = {}
    else:
        coco = load_coco(args.coco_ann)
        labeled, unlabeled, groups = split_objects365(
            data, args.ann_file, coco, args.coco_ann, args.percent, args.shots, args.seed,
            labeled_ids, args.coco_img_dir)
        record.update(coco_ann=args.coco_ann, coco_img_dir=args.coco_img_dir)
        extra = dict(coco_to_objects365=COCO_TO_OBJECTS365)
    names = OUTPUTS[args.protocol]
    paths = [osp.join(args.out_dir, names[k]) for k in ('labeled', 'unlabeled', 'groups')]
    atomic_json_dump_chunked(labeled, paths[0])
    atomic_json_dump_chunked(unlabeled, paths[1])
    atomic_json_dump(dict(groups, **extra, split=record), paths[2])
    print(_summary(f'{args.protocol} labeled', labeled, groups, paths[0]))
    print(_summary(f'{args.protocol} unlabeled', unlabeled, groups, paths[1]))
    print(f'class groups -> {paths[2]}')
    if args.protocol == 'objects365':
        coco_ids = {img['id'] for img in labeled['images'] if 'coco_image_id' in img}
        coco_anns = sum(a['image_id'] in coco_ids for a in labeled['annotations'])
        print(f"  labeled from COCO: {len(coco_ids)} images, {coco_anns} instances; from "
              f"Objects365: {len(labeled['images']) - len(coco_ids)} images, "
              f"{len(labeled['annotations']) - coco_anns} instances")
        print(f'COCO images are named {args.coco_img_dir}/<file>: link the COCO train2017 '
              f'folder as {args.coco_img_dir} next to the Objects365 patch* folders')
    return paths[0], paths[1], paths[2]


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    if args.protocol != 'coco':
        main_lvis_objects365(args)
        return
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
