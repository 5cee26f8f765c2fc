"""Synthetic long-tail detection set and the COCO CI-SSOD split tool."""
import hashlib
import importlib.util
import json
import os.path as osp

import numpy as np
import pytest

from mmssl.datasets.synthetic_detection import generate_synthetic_detection

REPO = osp.join(osp.dirname(__file__), '..', '..')
spec = importlib.util.spec_from_file_location(
    'split_coco_imbalance', osp.join(REPO, 'tools', 'misc', 'split_coco_imbalance.py'))
split_tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(split_tool)

SMALL = dict(num_classes=5, num_train=40, num_labeled=8, num_val=6, image_size=48,
             imbalance_ratio=20.0, min_labeled_per_class=1, seed=3)


def _digest(root):
    h = hashlib.sha256()
    for name in ('annotations/train_labeled.json', 'annotations/train_unlabeled.json',
                 'annotations/val.json', 'images/train/000007.png', 'images/val/000002.png'):
        with open(osp.join(root, name), 'rb') as f:
            h.update(f.read())
    return h.hexdigest()


def test_generator_is_deterministic_and_long_tailed(tmp_path):
    a = generate_synthetic_detection(str(tmp_path / 'a'), **SMALL)
    b = generate_synthetic_detection(str(tmp_path / 'b'), **SMALL)
    assert _digest(a['data_root']) == _digest(b['data_root'])
    c = generate_synthetic_detection(str(tmp_path / 'c'), **dict(SMALL, seed=4))
    assert _digest(c['data_root']) != _digest(a['data_root'])
    with open(a['meta']) as f:
        meta = json.load(f)
    counts = np.array(meta['train_instances'])
    assert counts[0] > 4 * counts[-1] and meta['minority_classes'] == meta['classes'][3:]
    assert min(meta['labeled_instances']) >= 1  # the few-shot part covers every class
    with open(a['train_labeled']) as f:
        lab = json.load(f)
    with open(a['train_unlabeled']) as f:
        unl = json.load(f)
    assert len(lab['images']) == 8 and len(unl['images']) == 32
    assert not {i['id'] for i in lab['images']} & {i['id'] for i in unl['images']}
    box = lab['annotations'][0]['bbox']
    assert 0 <= box[0] and box[0] + box[2] <= 48 and box[2] > 2
    with pytest.raises(ValueError, match='num_labeled'):
        generate_synthetic_detection(str(tmp_path / 'd'), num_train=5, num_labeled=5)


def _fake_coco():
    """A COCO-style file with the 80 COCO names and a long tail of instances."""
    names = list(split_tool.VOC_CLASSES_IN_COCO) + [f'other{i}' for i in range(60)]
    cats = [dict(id=i + 1, name=n) for i, n in enumerate(names)]
    rng = np.random.default_rng(0)
    prior = np.linspace(2, 0.1, 80)
    images, anns = [], []
    for img_id in range(1, 401):
        images.append(dict(id=img_id, file_name=f'{img_id}.jpg', width=64, height=64))
        for cat in rng.choice(80, size=3, p=prior / prior.sum()):
            anns.append(dict(id=len(anns) + 1, image_id=img_id, category_id=int(cat) + 1,
                             bbox=[1, 1, 10, 10], area=100, iscrowd=0))
    return dict(images=images, annotations=anns, categories=cats)


def test_split1_and_split2(tmp_path):
    coco = _fake_coco()
    minority = split_tool.minority_classes_for_split(coco, 1)
    assert minority == list(split_tool.VOC_CLASSES_IN_COCO)
    split2 = split_tool.minority_classes_for_split(coco, 2)
    assert len(split2) == 40 and split2[:20] == minority
    labeled, unlabeled = split_tool.make_split(coco, minority, percent=10, shots=3, seed=0)
    minority_ids = {c['id'] for c in coco['categories'] if c['name'] in minority}
    lab_ids = {i['id'] for i in labeled['images']}
    assert not lab_ids & {i['id'] for i in unlabeled['images']}
    assert len(lab_ids) + len(unlabeled['images']) == 400
    per_img = {}
    for a in coco['annotations']:
        per_img.setdefault(a['image_id'], []).append(a['category_id'])
    kept = [a['category_id'] for a in labeled['annotations']]
    # every minority class that exists reaches its shots through the few-shot images
    counts = {c: kept.count(c) for c in minority_ids}
    present = {c for cats in per_img.values() for c in cats}
    assert all(counts[c] >= min(3, sum(x.count(c) for x in per_img.values()))
               for c in minority_ids & present)
    # a labeled image either is a few-shot image and keeps all its annotations, or is from
    # the random subset and keeps exactly its majority annotations (minority ones removed)
    kept_per_img = {}
    for a in labeled['annotations']:
        kept_per_img.setdefault(a['image_id'], []).append(a['category_id'])
    few_shot, stripped = 0, 0
    for img_id in lab_ids:
        orig = sorted(per_img.get(img_id, []))
        mine = sorted(kept_per_img.get(img_id, []))
        majority_only = sorted(c for c in orig if c not in minority_ids)
        if any(c in minority_ids for c in mine):
            assert mine == orig, f'few-shot image {img_id} lost annotations'
            few_shot += 1
        else:
            assert mine == majority_only, f'image {img_id} kept {mine}, not {majority_only}'
            stripped += mine != orig
    assert few_shot > 0 and stripped > 0  # both kinds occur in this split
    with pytest.raises(ValueError, match='lacks the VOC classes'):
        split_tool.minority_classes_for_split(dict(coco, categories=coco['categories'][20:]), 1)


def test_split_tool_cli_writes_files(tmp_path, monkeypatch):
    ann = tmp_path / 'instances.json'
    ann.write_text(json.dumps(_fake_coco()))
    out = tmp_path / 'out'
    monkeypatch.setattr('sys.argv', ['split', str(ann), '--split', '2', '--out-dir', str(out),
                                     '--shots', '2'])
    split_tool.main()
    groups = json.loads((out / 'ci_ssod_split2_classes.json').read_text())
    assert len(groups['minority_classes']) == 40 and len(groups['majority_classes']) == 40
    assert (out / 'instances_train2017.split2.labeled.json').is_file()
    monkeypatch.setattr('sys.argv', ['split', str(tmp_path / 'missing.json')])
    with pytest.raises(FileNotFoundError, match='missing.json'):
        split_tool.main()
