"""Labeled/unlabeled splits of COCO-format keypoint files (the papers' protocols).

* :func:`split_first_n_instances` - PoseDual (seed 000) "COCO 1K/5K/10K": labeled = the first
  N non-crowd instances with >= 1 keypoint, in the order of ``images``; unlabeled = every
  person box of the file (GT boxes, keypoints removed), or only the rest.
* :func:`split_random_percent` - a random ``percent`` of the images for a fold seed (the
  mmdet ``semi_anns`` convention ``{fold}@{percent}``).
* :func:`split_nested_landmarks` - STLD (seed 003): shuffle the image list with a fixed seed
  (1234 in the release) and label the first N, so splits for growing N are nested.
* :func:`split_by_annotations` - labeled = the given annotations (e.g. the faces of a
  published split list), unlabeled = every other annotation of the file.

Unlabeled outputs keep images and boxes and zero the keypoints, so no label can leak into
unlabeled training. All functions take and return COCO dicts; :func:`write_coco` writes
atomically.
"""
import copy
import json
import os.path as osp
from typing import Dict, Iterable, List, Sequence, Tuple

import numpy as np

from mmssl.utils.atomic_files import atomic_json_dump

CocoDict = Dict[str, list]


def load_coco(path: str) -> CocoDict:
    """Read a COCO annotation file; errors name the file and what is wrong with it.

    The one reader of split, unlabeled and pseudo-label files (tools and runner alike).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'annotation file not found: {path}')
    try:
        with open(path) as f:
            coco = json.load(f)
    except ValueError as e:
        raise ValueError(f'{path} is not valid JSON: {e}') from e
    if not isinstance(coco, dict):
        raise ValueError(f'{path} is not a COCO annotation file (needs "images" and '
                         '"annotations")')
    for key in ('images', 'annotations'):
        if key not in coco:
            raise ValueError(f'{path} is not a COCO annotation file: no "{key}"')
    return coco


def write_coco(coco: CocoDict, path: str) -> str:
    """Write ``coco`` to ``path`` atomically (temp file + rename); returns ``path``."""
    return atomic_json_dump(coco, path)


def _num_keypoints(ann: dict) -> int:
    from .unlabeled_topdown_dataset import num_labeled_keypoints
    return num_labeled_keypoints(ann)


def _subset(coco: CocoDict, image_ids: Iterable[int], anns: List[dict],
            strip_keypoints: bool) -> CocoDict:
    ids = set(image_ids)
    out = {k: copy.deepcopy(v) for k, v in coco.items() if k not in ('images', 'annotations')}
    out['images'] = [copy.deepcopy(img) for img in coco['images'] if img['id'] in ids]
    out['annotations'] = []
    for ann in anns:
        ann = copy.deepcopy(ann)
        if strip_keypoints and 'keypoints' in ann:
            ann['keypoints'] = [0] * len(ann['keypoints'])
            ann['num_keypoints'] = 0
        out['annotations'].append(ann)
    return out


def _anns_by_image(coco: CocoDict) -> Dict[int, List[dict]]:
    by_image: Dict[int, List[dict]] = {img['id']: [] for img in coco['images']}
    for ann in coco['annotations']:
        by_image.setdefault(ann['image_id'], []).append(ann)
    return by_image


def split_first_n_instances(coco: CocoDict, num_labeled: int, unlabeled: str = 'all',
                            unlabeled_min_keypoints: int = 0) -> Tuple[CocoDict, CocoDict]:
    """Labeled = the first ``num_labeled`` valid instances in image order.

    Args:
        coco: a COCO keypoints dict.
        num_labeled: number of labeled person instances.
        unlabeled: ``'all'`` (every person box of the file) or ``'rest'`` (boxes of
            instances not labeled).
        unlabeled_min_keypoints: keep only unlabeled persons with at least this many labeled
            keypoints (1: the paper's "COCO 150K" of train2017; 0: every box).
    """
    if unlabeled not in ('all', 'rest'):
        raise ValueError(f'unlabeled must be "all" or "rest", got {unlabeled!r}')
    by_image = _anns_by_image(coco)
    labeled: List[dict] = []
    for img in coco['images']:
        for ann in by_image[img['id']]:
            if len(labeled) < num_labeled and not ann.get('iscrowd', 0) and \
                    _num_keypoints(ann) > 0:
                labeled.append(ann)
    if len(labeled) < num_labeled:
        raise ValueError(f'only {len(labeled)} non-crowd instances with keypoints, cannot '
                         f'label {num_labeled}')
    labeled_ids = {a['id'] for a in labeled}
    unl = [a for a in coco['annotations'] if not a.get('iscrowd', 0) and
           (unlabeled == 'all' or a['id'] not in labeled_ids) and
           _num_keypoints(a) >= unlabeled_min_keypoints]
    return (_subset(coco, {a['image_id'] for a in labeled}, labeled, False),
            _subset(coco, {a['image_id'] for a in unl}, unl, True))


def split_random_percent(coco: CocoDict, percent: float,
                         fold: int) -> Tuple[CocoDict, CocoDict]:
    """Label a random ``percent`` of the images (seed = ``fold``); the rest is unlabeled."""
    if not 0 < percent < 100:
        raise ValueError(f'percent must be in (0, 100), got {percent}')
    ids = np.array([img['id'] for img in coco['images']])
    n = max(1, int(round(len(ids) * percent / 100.)))
    chosen = set(np.random.RandomState(fold).permutation(ids)[:n].tolist())
    lab = [a for a in coco['annotations'] if a['image_id'] in chosen]
    unl = [a for a in coco['annotations'] if a['image_id'] not in chosen]
    return (_subset(coco, chosen, lab, False),
            _subset(coco, set(ids.tolist()) - chosen, unl, True))


def split_nested_landmarks(coco: CocoDict, num_labeled: Sequence[int],
                           seed: int = 1234) -> Dict[int, Tuple[CocoDict, CocoDict]]:
    """Nested splits: shuffle the images with ``seed`` once; labeled = the first N images.

    Returns:
        dict: ``{N: (labeled, unlabeled)}`` for every N of ``num_labeled``.
    """
    ids = [img['id'] for img in coco['images']]
    for n in num_labeled:
        if not 0 < n < len(ids):
            raise ValueError(f'cannot label {n} of {len(ids)} images')
    order = np.random.RandomState(seed).permutation(len(ids))
    shuffled = [ids[i] for i in order]
    out = {}
    for n in num_labeled:
        chosen = set(shuffled[:n])
        lab = [a for a in coco['annotations'] if a['image_id'] in chosen]
        unl = [a for a in coco['annotations'] if a['image_id'] not in chosen]
        out[n] = (_subset(coco, chosen, lab, False),
                  _subset(coco, set(ids) - chosen, unl, True))
    return out


def split_by_annotations(coco: CocoDict,
                         labeled_ids: Iterable[int]) -> Tuple[CocoDict, CocoDict]:
    """Labeled = the annotations with ids ``labeled_ids``; unlabeled = all the others.

    Splits per annotation (face), not per image: an image with a labeled and an unlabeled
    face is listed in both files, each with its own annotation.

    Raises:
        KeyError: when an id is not an annotation of ``coco``.
    """
    chosen = set(labeled_ids)
    missing = chosen - {a['id'] for a in coco['annotations']}
    if missing:
        raise KeyError(f'annotation ids {sorted(missing)[:5]} are not in the COCO file')
    lab = [a for a in coco['annotations'] if a['id'] in chosen]
    unl = [a for a in coco['annotations'] if a['id'] not in chosen]
    return (_subset(coco, {a['image_id'] for a in lab}, lab, False),
            _subset(coco, {a['image_id'] for a in unl}, unl, True))
