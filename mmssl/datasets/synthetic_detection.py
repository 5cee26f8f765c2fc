"""A small class-imbalanced detection set in COCO format, generated deterministically.

Images show coloured geometric shapes (one shape per class, a class-specific hue with
jitter) on a noisy background. Class frequencies in the training pool follow a long tail:
``p(c) ~ imbalance_ratio ** (-c / (n - 1))`` (class 0 the most frequent). The labeled set is
small: a few-shot part that guarantees ``min_labeled_per_class`` instances of every class
(all annotations kept, as in the CI-SSOD COCO splits) filled up with random images; every
other training image is unlabeled. The validation set is class-balanced so that minority AP
is measured on enough instances. The ``num_minority`` rarest classes are the minority group.

Files written under ``out_dir`` (every file written atomically)::

    images/train/000000.png ...   images/val/000000.png ...
    annotations/train_labeled.json  annotations/train_unlabeled.json  annotations/val.json
    meta.json      classes, minority/majority class names, instance counts, settings
"""
import json
import os
import os.path as osp
import tempfile
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

SHAPES: Tuple[str, ...] = ('circle', 'square', 'triangle', 'diamond', 'cross', 'ring',
                           'star', 'hexagon', 'bar', 'ellipse')


def _write_atomic(path: str, data: bytes) -> None:
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=osp.dirname(path) or '.', prefix='.tmp_')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def _write_json(path: str, obj) -> None:
    _write_atomic(path, json.dumps(obj).encode('utf-8'))


def _polygon(shape: str, cx: float, cy: float, r: float) -> Optional[np.ndarray]:
    if shape == 'square':
        k = 4
        ang = np.pi / 4 + np.arange(k) * 2 * np.pi / k
        rad = np.full(k, r)
    elif shape == 'triangle':
        ang = -np.pi / 2 + np.arange(3) * 2 * np.pi / 3
        rad = np.full(3, r)
    elif shape == 'diamond':
        ang = np.arange(4) * np.pi / 2
        rad = np.array([r, 0.6 * r, r, 0.6 * r])
    elif shape == 'hexagon':
        ang = np.arange(6) * np.pi / 3
        rad = np.full(6, r)
    elif shape == 'star':
        ang = -np.pi / 2 + np.arange(10) * np.pi / 5
        rad = np.where(np.arange(10) % 2 == 0, r, 0.45 * r)
    elif shape == 'cross':
        t = r / 3
        pts = [(-t, -r), (t, -r), (t, -t), (r, -t), (r, t), (t, t), (t, r), (-t, r),
               (-t, t), (-r, t), (-r, -t), (-t, -t)]
        return np.array([[cx + x, cy + y] for x, y in pts], dtype=np.int32)
    elif shape == 'bar':
        return np.array([[cx - r, cy - r / 3], [cx + r, cy - r / 3], [cx + r, cy + r / 3],
                         [cx - r, cy + r / 3]], dtype=np.int32)
    else:
        return None
    return np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], 1).astype(np.int32)


def _draw(img: np.ndarray, shape: str, cx: float, cy: float, r: float,
          color: Tuple[int, int, int]) -> List[float]:
    """Draw one shape; returns its tight [x, y, w, h] box (from the drawn mask)."""
    mask = np.zeros(img.shape[:2], np.uint8)
    if shape == 'circle':
        cv2.circle(mask, (int(cx), int(cy)), int(r), 255, -1)
    elif shape == 'ring':
        cv2.circle(mask, (int(cx), int(cy)), int(r), 255, -1)
        cv2.circle(mask, (int(cx), int(cy)), max(int(r * 0.55), 1), 0, -1)
    elif shape == 'ellipse':
        cv2.ellipse(mask, (int(cx), int(cy)), (int(r), max(int(r * 0.5), 1)), 0, 0, 360, 255,
                    -1)
    else:
        cv2.fillPoly(mask, [_polygon(shape, cx, cy, r)], 255)
    img[mask > 0] = color
    ys, xs = np.nonzero(mask)
    x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
    return [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]


def _class_colors(num_classes: int) -> np.ndarray:
    hues = (np.arange(num_classes) * 180 // num_classes).astype(np.uint8)
    hsv = np.stack([hues, np.full_like(hues, 200), np.full_like(hues, 220)], 1)[None]
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0].astype(np.int32)


def _render(rng: np.random.Generator, labels: np.ndarray, size: int,
            colors: np.ndarray) -> Tuple[np.ndarray, List[List[float]], np.ndarray]:
    """Render one image with the given object classes (placed without heavy overlap)."""
    base = rng.integers(40, 110, size=3)
    img = (base[None, None, :] + rng.normal(0, 12, size=(size, size, 3))).clip(0, 255)
    img = img.astype(np.uint8)
    boxes, kept, placed = [], [], []
    for label in labels:
        for _ in range(20):
            r = rng.uniform(0.08, 0.18) * size
            cx, cy = rng.uniform(r + 1, size - r - 1, size=2)
            if all((cx - px)**2 + (cy - py)**2 > (r + pr)**2 for px, py, pr in placed):
                break
        else:
            continue
        jitter = rng.integers(-25, 26, size=3)
        color = tuple(int(v) for v in np.clip(colors[label] + jitter, 0, 255))
        boxes.append(_draw(img, SHAPES[label], cx, cy, r, color))
        kept.append(label)
        placed.append((cx, cy, r))
    return img, boxes, np.asarray(kept, dtype=np.int64)


def _coco(images: List[dict], anns: List[dict], classes: List[str]) -> dict:
    return dict(
        images=images,
        annotations=anns,
        categories=[dict(id=i + 1, name=name) for i, name in enumerate(classes)])


def generate_synthetic_detection(out_dir: str,
                                 *,
                                 num_classes: int = 6,
                                 num_train: int = 600,
                                 num_labeled: int = 60,
                                 num_val: int = 120,
                                 image_size: int = 128,
                                 imbalance_ratio: float = 50.0,
                                 num_minority: Optional[int] = None,
                                 min_labeled_per_class: int = 2,
                                 max_objects: int = 4,
                                 seed: int = 0) -> Dict[str, str]:
    """Generate the set (see the module docstring); the same arguments give the same bytes.

    Returns:
        dict: Paths of ``data_root``, the three annotation files and ``meta.json``.
    """
    if not 2 <= num_classes <= len(SHAPES):
        raise ValueError(f'num_classes must be in [2, {len(SHAPES)}], got {num_classes}')
    if not 0 < num_labeled < num_train:
        raise ValueError(f'need 0 < num_labeled < num_train, got {num_labeled}, {num_train}')
    if imbalance_ratio < 1 or max_objects < 1 or image_size < 32 or num_val < 1:
        raise ValueError('need imbalance_ratio >= 1, max_objects >= 1, image_size >= 32, '
                         'num_val >= 1')
    num_minority = num_classes // 2 if num_minority is None else num_minority
    if not 0 < num_minority < num_classes:
        raise ValueError(f'num_minority must be in (0, {num_classes}), got {num_minority}')
    rng = np.random.default_rng(seed)
    classes = list(SHAPES[:num_classes])
    colors = _class_colors(num_classes)
    prior = imbalance_ratio**(-np.arange(num_classes) / (num_classes - 1))
    prior = prior / prior.sum()

    def make_split(split: str, count: int, probs: np.ndarray):
        records = []
        for i in range(count):
            n_obj = int(rng.integers(1, max_objects + 1))
            img, boxes, labels = _render(rng, rng.choice(num_classes, n_obj, p=probs),
                                         image_size, colors)
            name = f'{split}/{i:06d}.png'
            ok, buf = cv2.imencode('.png', img)
            assert ok, f'PNG encoding failed for {name}'
            _write_atomic(osp.join(out_dir, 'images', name), buf.tobytes())
            records.append((name, boxes, labels))
        return records

    train = make_split('train', num_train, prior)
    val = make_split('val', num_val, np.full(num_classes, 1.0 / num_classes))

    # Labeled set: few-shot part guaranteeing min_labeled_per_class instances per class,
    # filled up with random images.
    order = rng.permutation(num_train)
    labeled, have = [], np.zeros(num_classes, np.int64)
    for c in np.argsort(-prior)[::-1]:  # rarest class first
        for i in order:
            if have[c] >= min_labeled_per_class or len(labeled) >= num_labeled:
                break
            if i not in labeled and c in train[i][2]:
                labeled.append(int(i))
                have += np.bincount(train[i][2], minlength=num_classes)
    for i in order:
        if len(labeled) >= num_labeled:
            break
        if int(i) not in labeled:
            labeled.append(int(i))
    labeled_set = set(labeled)

    def to_coco(records, keep: List[int], id_offset: int) -> dict:
        images, anns = [], []
        for i in keep:
            name, boxes, labels = records[i]
            img_id = id_offset + i
            images.append(dict(id=img_id, file_name=name, width=image_size, height=image_size))
            for box, label in zip(boxes, labels):
                anns.append(
                    dict(id=len(anns) + 1, image_id=img_id, bbox=box,
                         area=box[2] * box[3], category_id=int(label) + 1, iscrowd=0))
        return _coco(images, anns, classes)

    ann_dir = osp.join(out_dir, 'annotations')
    paths = dict(
        data_root=out_dir,
        train_labeled=osp.join(ann_dir, 'train_labeled.json'),
        train_unlabeled=osp.join(ann_dir, 'train_unlabeled.json'),
        val=osp.join(ann_dir, 'val.json'),
        meta=osp.join(out_dir, 'meta.json'))
    _write_json(paths['train_labeled'], to_coco(train, sorted(labeled_set), 1))
    _write_json(paths['train_unlabeled'],
                to_coco(train, [i for i in range(num_train) if i not in labeled_set], 1))
    _write_json(paths['val'], to_coco(val, list(range(num_val)), 100000))
    train_counts = np.bincount(np.concatenate([r[2] for r in train]), minlength=num_classes)
    labeled_counts = np.bincount(
        np.concatenate([train[i][2] for i in labeled]), minlength=num_classes)
    minority = classes[num_classes - num_minority:]
    _write_json(
        paths['meta'],
        dict(
            classes=classes,
            minority_classes=minority,
            majority_classes=classes[:num_classes - num_minority],
            train_instances=train_counts.tolist(),
            labeled_instances=labeled_counts.tolist(),
            num_labeled_images=len(labeled),
            num_unlabeled_images=num_train - len(labeled),
            num_val_images=num_val,
            settings=dict(
                num_classes=num_classes, num_train=num_train, num_labeled=num_labeled,
                num_val=num_val, image_size=image_size, imbalance_ratio=imbalance_ratio,
                num_minority=num_minority, min_labeled_per_class=min_labeled_per_class,
                max_objects=max_objects, seed=seed)))
    return paths
