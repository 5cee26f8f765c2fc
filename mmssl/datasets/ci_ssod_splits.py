"""CI-SSOD labeled / unlabeled splits of LVIS v1 and COCO -> Objects365 (seed 004 sub-tasks).

The authors' release (``tools/split_dataset_lvis.py``, ``tools/split_dataset_object365.py``)
splits by image: the labeled file holds the images of an id list with every annotation of
theirs, the unlabeled file every other image of the training file with every annotation;
images sorted by id, categories copied unchanged. For COCO -> Objects365 the labeled data is
COCO train2017 relabeled to Objects365 classes (:mod:`.coco_to_objects365`) plus the listed
Objects365 images. The id lists are not in the release; its code assumes 9946 labeled LVIS
images (~10 % of LVIS v1 train) and 119790 labeled COCO + Objects365 images (COCO train2017 has
118287), and its per-class image counts of that set (``ssod/datasets/cate.py``) give the
Objects365 minority classes about ten images each.

Hence :func:`select_labeled_images`: a random ``percent`` of the images (all annotations
kept) plus a few-shot top-up, images taken in the same random order until every minority
class has ``shots`` non-crowd instances in the labeled set. Defaults: LVIS 10 % and no
top-up; Objects365 no random part and 10 shots of each of its 287 minority classes.
``labeled_ids`` instead takes the labeled images from a list (e.g. the image ids of the
release's published label files), reproducing its split exactly.

Unlabeled files keep their ground truth (never trained on; read by the analysis hooks).
"""
import json
import os.path as osp
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from .coco_to_objects365 import (check_objects365_v2_names, coco_as_objects365, id_offset,
                                 objects365_class_groups)

LVIS_FREQUENCIES = dict(r='rare_classes', c='common_classes', f='frequent_classes')
# the files the CI-SSOD LVIS / Objects365 configs read (tests compare them with the configs)
OUTPUTS = dict(
    lvis=dict(out_dir='data/lvis/annotations', labeled='lvis_v1_train_lvis_label.json',
              unlabeled='lvis_v1_train_lvis_unlabel.json',
              groups='ci_ssod_lvis_v1_classes.json'),
    objects365=dict(out_dir='data/objects365/semi_anns/ci_ssod',
                    labeled='objects365_train.labeled.json',
                    unlabeled='objects365_train.unlabeled.json',
                    groups='ci_ssod_objects365_classes.json'))


def check_instances(coco, path: str) -> None:
    """Raise unless ``coco`` is a dict with 'images', 'annotations' and 'categories' lists."""
    if not isinstance(coco, dict):
        raise ValueError(f'{path} is not a COCO-format instances file (a JSON object with '
                         '"images", "annotations", "categories")')
    for key in ('images', 'annotations', 'categories'):
        if not isinstance(coco.get(key), list):
            raise ValueError(f'{path} is not a COCO-format instances file: no "{key}" list')


def _lookup_positions(sorted_ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.clip(np.searchsorted(sorted_ids, values), 0, max(len(sorted_ids) - 1, 0))


def _lookup(sorted_ids: np.ndarray, values: np.ndarray, path: str, what: str) -> np.ndarray:
    pos = _lookup_positions(sorted_ids, values)
    bad = sorted_ids[pos] != values if len(sorted_ids) else np.ones(len(values), bool)
    if bad.any():
        raise ValueError(f'{path}: {int(bad.sum())} annotations refer to {what} ids that are '
                         f'not in the file, e.g. {values[bad][:5].tolist()}')
    return pos


def _unique_sorted(ids: np.ndarray, path: str, what: str) -> np.ndarray:
    order = np.argsort(ids, kind='stable')
    dup = ids[order][1:][np.diff(ids[order]) == 0]
    if dup.size:
        raise ValueError(f'{path}: duplicate {what} ids, e.g. {dup[:5].tolist()}')
    return order


class InstancesIndex:
    """Numpy arrays over a COCO-format instances dict; errors name ``path``.

    Attributes:
        image_ids: sorted image ids; ``image_order`` their positions in ``coco['images']``.
        cat_ids: sorted category ids.
        ann_image / ann_cat: per annotation, the index into ``image_ids`` / ``cat_ids``.
        crowd: per annotation, ``iscrowd`` (absent = 0, as in LVIS).
    """

    def __init__(self, coco: dict, path: str) -> None:
        check_instances(coco, path)
        self.path = path
        images, anns, cats = coco['images'], coco['annotations'], coco['categories']
        try:
            img_ids = np.fromiter((i['id'] for i in images), np.int64, len(images))
            cat_ids = np.fromiter((c['id'] for c in cats), np.int64, len(cats))
            ann_img = np.fromiter((a['image_id'] for a in anns), np.int64, len(anns))
            ann_cat = np.fromiter((a['category_id'] for a in anns), np.int64, len(anns))
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f'{path}: every image and category needs an integer "id" and '
                             'every annotation an "image_id" and a "category_id" '
                             f'({type(e).__name__}: {e})') from e
        self.crowd = np.fromiter((bool(a.get('iscrowd', 0)) for a in anns), bool, len(anns))
        self.image_order = _unique_sorted(img_ids, path, 'image')
        self.image_ids = img_ids[self.image_order]
        self.cat_ids = cat_ids[_unique_sorted(cat_ids, path, 'category')]
        self.ann_image = _lookup(self.image_ids, ann_img, path, 'image')
        self.ann_cat = _lookup(self.cat_ids, ann_cat, path, 'category')

    def image_mask(self, ids: Iterable[int], source: str) -> np.ndarray:
        """Boolean mask over ``image_ids`` of ``ids``; unknown ids are an error."""
        ids = np.unique(np.asarray(list(ids), dtype=np.int64))
        pos = _lookup_positions(self.image_ids, ids)
        bad = self.image_ids[pos] != ids if len(self.image_ids) else np.ones(len(ids), bool)
        if bad.any():
            raise ValueError(f'{source}: {int(bad.sum())} image ids are not images of '
                             f'{self.path}, e.g. {ids[bad][:5].tolist()}')
        mask = np.zeros(len(self.image_ids), bool)
        mask[pos] = True
        return mask


def read_image_ids(path: str) -> List[int]:
    """Image ids from a text file (one per line, the release's list format), a JSON list
    or a COCO-format JSON file (its images' ids, e.g. a release label file)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'labeled image id file not found: {path}')
    with open(path) as f:
        text = f.read()
    if path.endswith('.json'):
        try:
            data = json.loads(text)
        except ValueError as e:
            raise ValueError(f'{path} is not valid JSON: {e}') from e
        if isinstance(data, dict) and isinstance(data.get('images'), list):
            return [int(img['id']) for img in data['images']]
        if isinstance(data, list) and all(isinstance(i, int) for i in data):
            return data
        raise ValueError(f'{path}: expected a list of image ids or a COCO file with "images"')
    ids = []
    for num, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                ids.append(int(line.strip()))
            except ValueError:
                raise ValueError(f'{path} line {num}: {line.strip()!r} is not an image id')
    return ids


def select_labeled_images(index: InstancesIndex, percent: float, shots: int,
                          minority_cat_ids: Sequence[int], seed: int) -> np.ndarray:
    """Labeled-image mask over ``index.image_ids``: random ``percent`` + few-shot top-up.

    One random order of the images (``np.random.default_rng(seed)``) gives the first
    ``percent`` % and, for each minority class in id order, the images added until the class
    has ``shots`` non-crowd instances in the labeled set (fewer if the file has fewer).
    """
    if not 0 <= percent < 100 or shots < 0:
        raise ValueError(f'need 0 <= percent < 100 and shots >= 0, got {percent}, {shots}')
    num_images, num_cats = len(index.image_ids), len(index.cat_ids)
    order = np.random.default_rng(seed).permutation(num_images)
    labeled = np.zeros(num_images, bool)
    labeled[order[:int(round(num_images * percent / 100))]] = True
    if shots == 0 or not len(minority_cat_ids):
        return labeled
    keep = ~index.crowd
    pairs, counts = np.unique(index.ann_image[keep] * num_cats + index.ann_cat[keep],
                              return_counts=True)
    pair_img, pair_cat = pairs // num_cats, pairs % num_cats  # sorted by image, then class
    img_start = np.searchsorted(pair_img, np.arange(num_images + 1))
    have = np.zeros(num_cats, np.int64)
    np.add.at(have, pair_cat[labeled[pair_img]], counts[labeled[pair_img]])
    rank = np.empty(num_images, np.int64)
    rank[order] = np.arange(num_images)
    by_cat = np.lexsort((rank[pair_img], pair_cat))  # per class, images in random order
    cat_start = np.searchsorted(pair_cat[by_cat], np.arange(num_cats + 1))
    for c in np.sort(np.searchsorted(index.cat_ids, np.asarray(minority_cat_ids))):
        for p in by_cat[cat_start[c]:cat_start[c + 1]]:
            if have[c] >= shots:
                break
            img = pair_img[p]
            if not labeled[img]:
                labeled[img] = True
                s, e = img_start[img], img_start[img + 1]
                have[pair_cat[s:e]] += counts[s:e]
    return labeled


def split_by_image_mask(coco: dict, index: InstancesIndex,
                        labeled: np.ndarray) -> Tuple[dict, dict]:
    """(labeled, unlabeled) dicts: images by id, each with all its annotations, other keys
    shared with ``coco`` (not copied)."""
    common = {k: v for k, v in coco.items() if k not in ('images', 'annotations')}
    images, anns = coco['images'], coco['annotations']
    perm = np.argsort(index.ann_image, kind='stable')
    ann_labeled = labeled[index.ann_image[perm]]
    out = []
    for img_sel, ann_sel in ((labeled, ann_labeled), (~labeled, ~ann_labeled)):
        out.append(dict(common, images=[images[i] for i in index.image_order[img_sel].tolist()],
                        annotations=[anns[i] for i in perm[ann_sel].tolist()]))
    return out[0], out[1]


def lvis_frequency_groups(coco: dict, path: str) -> Dict[str, List[str]]:
    """Rare / common / frequent class names from the categories' ``frequency``."""
    bad = [c.get('name', c.get('id')) for c in coco['categories']
           if c.get('frequency') not in LVIS_FREQUENCIES]
    if bad:
        raise ValueError(f"{path}: categories {bad[:5]} (of {len(bad)}) have no LVIS "
                         "'frequency' ('r' / 'c' / 'f'); pass an LVIS v1 file "
                         '(lvis_v1_train.json)')
    groups: Dict[str, List[str]] = {key: [] for key in LVIS_FREQUENCIES.values()}
    for cat in sorted(coco['categories'], key=lambda c: c['id']):
        groups[LVIS_FREQUENCIES[cat['frequency']]].append(cat['name'])
    return groups


def _labeled_mask(index: InstancesIndex, labeled_ids: Optional[Tuple[str, Sequence[int]]],
                  percent: float, shots: int, minority: Sequence[int], seed: int):
    if labeled_ids is not None:
        source, ids = labeled_ids
        return index.image_mask(ids, source)
    return select_labeled_images(index, percent, shots, minority, seed)


def split_lvis(coco: dict, path: str, percent: float = 10.0, shots: int = 0, seed: int = 1,
               labeled_ids: Optional[Tuple[str, Sequence[int]]] = None
               ) -> Tuple[dict, dict, Dict[str, List[str]]]:
    """LVIS v1 split (module docstring); the few-shot minority are the rare classes.

    Args:
        coco (dict): ``lvis_v1_train.json``; ``path`` its file (named in errors).
        percent, shots, seed: see :func:`select_labeled_images`.
        labeled_ids (tuple, optional): ``(source file, image ids)``, replaces the sampling.

    Returns:
        tuple: ``(labeled, unlabeled, groups)``; groups = rare / common / frequent names.
    """
    check_instances(coco, path)
    groups = lvis_frequency_groups(coco, path)
    nameless = [img.get('id') for img in coco['images']
                if 'coco_url' not in img and 'file_name' not in img]
    if nameless:
        raise ValueError(f"{path}: images {nameless[:5]} have neither 'coco_url' nor "
                         "'file_name'")
    index = InstancesIndex(coco, path)
    rare = [c['id'] for c in coco['categories'] if c['frequency'] == 'r']
    labeled = _labeled_mask(index, labeled_ids, percent, shots, rare, seed)
    if not labeled.any():
        raise ValueError(f'{path}: the labeled set would be empty (percent {percent}, '
                         f'shots {shots})')
    return (*split_by_image_mask(coco, index, labeled), groups)


def split_objects365(objects365: dict, path: str, coco: dict, coco_path: str,
                     percent: float = 0.0, shots: int = 10, seed: int = 1,
                     labeled_ids: Optional[Tuple[str, Sequence[int]]] = None,
                     coco_img_dir: str = 'train2017'
                     ) -> Tuple[dict, dict, Dict[str, List[str]]]:
    """COCO -> Objects365 split (module docstring).

    Args:
        objects365 (dict): ``zhiyuan_objv2_train.json``; ``path`` its file.
        coco (dict): COCO ``instances_train2017.json``; ``coco_path`` its file.
        percent, shots, seed: Objects365 sampling, see :func:`select_labeled_images`.
        labeled_ids (tuple, optional): ``(source file, Objects365 image ids)``.
        coco_img_dir (str): Folder in front of the COCO file names (see
            :mod:`.coco_to_objects365`).

    Returns:
        tuple: ``(labeled, unlabeled, groups)``; labeled = the Objects365 labeled images,
        then COCO (ids shifted above the Objects365 ones); groups = minority / majority.
    """
    check_instances(objects365, path)
    check_instances(coco, coco_path)
    check_objects365_v2_names(objects365['categories'], path)
    groups = objects365_class_groups(objects365['categories'])
    index = InstancesIndex(objects365, path)
    minority = set(groups['minority_classes'])
    minority_ids = [c['id'] for c in objects365['categories'] if c['name'] in minority]
    labeled_mask = _labeled_mask(index, labeled_ids, percent, shots, minority_ids, seed)
    labeled, unlabeled = split_by_image_mask(objects365, index, labeled_mask)

    coco_index = InstancesIndex(coco, coco_path)
    coco_sorted, _ = split_by_image_mask(coco, coco_index, np.ones(len(coco_index.image_ids),
                                                                  bool))
    ann_ids = np.fromiter((a['id'] for a in objects365['annotations']), np.int64,
                          len(objects365['annotations']))
    coco_images, coco_anns = coco_as_objects365(coco_sorted, coco_path,
                                                objects365['categories'],
                                                id_offset(index.image_ids), id_offset(ann_ids),
                                                coco_img_dir)
    labeled['images'] = labeled['images'] + coco_images
    labeled['annotations'] = labeled['annotations'] + coco_anns
    merged = np.fromiter((a['id'] for a in labeled['annotations']), np.int64,
                         len(labeled['annotations']))
    _unique_sorted(merged, f'{path} + {coco_path}', 'annotation')
    return labeled, unlabeled, groups


def group_counts(coco: dict, groups: Mapping[str, Sequence[str]]) -> Dict[str, Tuple[int, ...]]:
    """Per group: (classes, instances, classes with at least one instance) in ``coco``."""
    name = {c['id']: c['name'] for c in coco['categories']}
    cat = np.fromiter((a['category_id'] for a in coco['annotations']), np.int64,
                      len(coco['annotations']))
    ids, counts = np.unique(cat, return_counts=True)
    per_name: Dict[str, int] = {}
    for i, n in zip(ids.tolist(), counts.tolist()):
        per_name[name[i]] = per_name.get(name[i], 0) + n
    return {g: (len(names), sum(per_name.get(n, 0) for n in names),
                sum(n in per_name for n in names)) for g, names in groups.items()}
