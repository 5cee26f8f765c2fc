"""COCO train2017 boxes as Objects365 v2 labels (CI-SSOD MS-COCO -> Objects365 sub-task).

In that sub-task the labeled set is all of COCO train2017, its 80 classes relabeled to
Objects365 classes, plus a small labeled Objects365 subset. :data:`COCO_TO_OBJECTS365` is
the relabeling of the authors' release (``ssod/datasets/cate.py``, written there as a list
of Objects365 indices, here by name): 'sports ball' has no counterpart and is dropped,
'teddy bear' and 'bear' both become 'Bear', 'bird' becomes 'Wild Bird'. The 78 Objects365
classes reached this way are the majority, the other 287 the minority (the release's
``base`` / ``novel`` evaluation groups, ``ssod/datasets/object365.py``).

:func:`coco_as_objects365` renumbers the COCO images and annotations above the Objects365
ids, so that both can share one labeled file (``Objects365V2Dataset`` needs unique ids), and
names the images ``<coco_img_dir>/<file>``: that dataset keeps the last folder of a file name,
so the COCO images must be reachable as ``<data_prefix>/train2017/`` (a symbolic link).
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

COCO_TO_OBJECTS365: Dict[str, Optional[str]] = {
    'person': 'Person', 'bicycle': 'Bicycle', 'car': 'Car', 'motorcycle': 'Motorcycle',
    'airplane': 'Airplane', 'bus': 'Bus', 'train': 'Train', 'truck': 'Truck', 'boat': 'Boat',
    'traffic light': 'Traffic Light', 'fire hydrant': 'Fire Hydrant', 'stop sign': 'Stop Sign',
    'parking meter': 'Parking meter', 'bench': 'Bench', 'bird': 'Wild Bird', 'cat': 'Cat',
    'dog': 'Dog', 'horse': 'Horse', 'sheep': 'Sheep', 'cow': 'Cow', 'elephant': 'Elephant',
    'bear': 'Bear', 'zebra': 'Zebra', 'giraffe': 'Giraffe', 'backpack': 'Backpack',
    'umbrella': 'Umbrella', 'handbag': 'Handbag/Satchel', 'tie': 'Tie', 'suitcase': 'Luggage',
    'frisbee': 'Frisbee', 'skis': 'Skiboard', 'snowboard': 'Snowboard', 'sports ball': None,
    'kite': 'Kite', 'baseball bat': 'Baseball Bat', 'baseball glove': 'Baseball Glove',
    'skateboard': 'Skateboard', 'surfboard': 'Surfboard', 'tennis racket': 'Tennis Racket',
    'bottle': 'Bottle', 'wine glass': 'Wine Glass', 'cup': 'Cup', 'fork': 'Fork',
    'knife': 'Knife', 'spoon': 'Spoon', 'bowl': 'Bowl/Basin', 'banana': 'Banana',
    'apple': 'Apple', 'sandwich': 'Sandwich', 'orange': 'Orange/Tangerine',
    'broccoli': 'Broccoli', 'carrot': 'Carrot', 'hot dog': 'Hot dog', 'pizza': 'Pizza',
    'donut': 'Donut', 'cake': 'Cake', 'chair': 'Chair', 'couch': 'Couch',
    'potted plant': 'Potted Plant', 'bed': 'Bed', 'dining table': 'Dinning Table',
    'toilet': 'Toilet', 'tv': 'Moniter/TV', 'laptop': 'Laptop', 'mouse': 'Mouse',
    'remote': 'Remote', 'keyboard': 'Keyboard', 'cell phone': 'Cell Phone',
    'microwave': 'Microwave', 'oven': 'Oven', 'toaster': 'Toaster', 'sink': 'Sink',
    'refrigerator': 'Refrigerator', 'book': 'Book', 'clock': 'Clock', 'vase': 'Vase',
    'scissors': 'Scissors', 'teddy bear': 'Bear', 'hair drier': 'Hair Dryer',
    'toothbrush': 'Toothbrush'
}


def check_objects365_v2_names(categories: Sequence[dict], path: str) -> None:
    """Refuse category names that mmdet's ``Objects365V2Dataset`` does not train on.

    That dataset looks its classes up by name and silently drops the others, so a v1 file
    or a renamed class would train fewer classes than the configs' 365.
    """
    from mmdet.datasets import Objects365V2Dataset
    known = set(Objects365V2Dataset.METAINFO['classes'])
    unknown = [c['name'] for c in categories if c['name'] not in known]
    if unknown:
        raise ValueError(f'{path}: categories {unknown[:5]} (of {len(unknown)}) are not '
                         'Objects365 v2 class names (mmdet Objects365V2Dataset); pass the v2 '
                         'file zhiyuan_objv2_train.json')


def objects365_class_groups(categories: Sequence[dict]) -> Dict[str, List[str]]:
    """Majority (a COCO class maps to it) and minority Objects365 class names, file order."""
    targets = {v for v in COCO_TO_OBJECTS365.values() if v is not None}
    names = [c['name'] for c in sorted(categories, key=lambda c: c['id'])]
    missing = sorted(targets - set(names))
    if missing:
        raise ValueError(f'the Objects365 categories lack the COCO counterparts {missing}')
    return dict(minority_classes=[n for n in names if n not in targets],
                majority_classes=[n for n in names if n in targets])


def id_offset(ids: np.ndarray) -> int:
    """The power of ten above every id: COCO id ``i`` becomes ``offset + i``."""
    return 10 ** len(str(int(ids.max()))) if ids.size else 1


def coco_as_objects365(coco: dict, coco_path: str, objects365_categories: Sequence[dict],
                       image_id_offset: int, ann_id_offset: int,
                       coco_img_dir: str = 'train2017') -> Tuple[List[dict], List[dict]]:
    """COCO images and annotations relabeled to Objects365 category ids.

    Args:
        coco (dict): A COCO instances dict with the 80 COCO class names.
        coco_path (str): Its file, named in errors.
        objects365_categories (Sequence[dict]): The Objects365 file's categories.
        image_id_offset (int): Added to every COCO image id (see :func:`id_offset`).
        ann_id_offset (int): Added to every COCO annotation id.
        coco_img_dir (str): Folder written in front of the COCO file names.

    Returns:
        tuple: ``(images, annotations)``; images keep their fields plus ``coco_image_id``;
        'sports ball' annotations are dropped.
    """
    names = {c['id']: c['name'] for c in coco['categories']}
    unknown = sorted(set(names.values()) - set(COCO_TO_OBJECTS365))
    if unknown:
        raise ValueError(f'{coco_path}: categories {unknown[:5]} are not COCO classes; '
                         '--coco-ann must be COCO instances_train2017.json')
    o365_id = {c['name']: c['id'] for c in objects365_categories}
    to_id = {}
    for cat_id, name in names.items():
        target = COCO_TO_OBJECTS365[name]
        if target is not None and target not in o365_id:
            raise ValueError(f'the Objects365 categories lack {target!r} (for COCO {name!r})')
        to_id[cat_id] = None if target is None else o365_id[target]
    images = [dict(img, id=img['id'] + image_id_offset, coco_image_id=img['id'],
                   file_name=f"{coco_img_dir}/{osp.basename(img['file_name'])}")
              for img in coco['images']]
    annotations = []
    for ann in coco['annotations']:
        if ann['category_id'] not in to_id:
            raise ValueError(f"{coco_path}: annotation {ann.get('id')} has category "
                             f"{ann['category_id']}, not in its categories")
        target = to_id[ann['category_id']]
        if target is not None:
            annotations.append(dict(ann, id=ann['id'] + ann_id_offset,
                                    image_id=ann['image_id'] + image_id_offset,
                                    category_id=target))
    return images, annotations
