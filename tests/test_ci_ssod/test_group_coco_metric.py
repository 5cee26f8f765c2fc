"""GroupCocoMetric: AP on all / majority / minority and LVIS rare / common / frequent classes
against known predictions."""
import json
import os.path as osp

import numpy as np
import pytest
import torch

from mmssl.evaluation.group_coco_metric import GroupCocoMetric, group_average_precision

CLASSES = ('circle', 'square', 'triangle', 'diamond', 'cross', 'ring')
MINORITY = ['diamond', 'cross', 'ring']


def _gt(ci_data_dir):
    ann = osp.join(ci_data_dir, 'ci_ssod_synthetic', 'annotations', 'val.json')
    with open(ann) as f:
        return ann, json.load(f)


def _predictions(coco, keep_classes):
    """Data samples with the ground truth as predictions for the kept classes."""
    by_img = {img['id']: [] for img in coco['images']}
    for a in coco['annotations']:
        by_img[a['image_id']].append(a)
    samples = []
    for img in coco['images']:
        anns = [a for a in by_img[img['id']] if CLASSES[a['category_id'] - 1] in keep_classes]
        boxes = [[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2],
                  a['bbox'][1] + a['bbox'][3]] for a in anns]
        samples.append(
            dict(img_id=img['id'], ori_shape=(img['height'], img['width']),
                 pred_instances=dict(
                     bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
                     scores=torch.ones(len(anns)),
                     labels=torch.tensor([a['category_id'] - 1 for a in anns],
                                         dtype=torch.long))))
    return samples


def _evaluate(ann, samples, **kwargs):
    metric = GroupCocoMetric(ann_file=ann, metric='bbox', **kwargs)
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def test_group_ap_majority_only_predictions(ci_data_dir):
    ann, coco = _gt(ci_data_dir)
    present = {CLASSES[a['category_id'] - 1] for a in coco['annotations']}
    assert present & set(MINORITY) and present - set(MINORITY)
    res = _evaluate(ann, _predictions(coco, set(CLASSES) - set(MINORITY)),
                    minority_classes=MINORITY)
    assert res['coco/bbox_mAP_maj'] == pytest.approx(1.0)
    assert res['coco/bbox_mAP_min'] == pytest.approx(0.0)
    assert res['coco/bbox_mAP_50_maj'] == pytest.approx(1.0)
    assert res['coco/bbox_mAP_all'] == pytest.approx(res['coco/bbox_mAP'], abs=1e-3)
    n_maj = len(present - set(MINORITY))
    assert res['coco/bbox_mAP_all'] == pytest.approx(n_maj / len(present), abs=1e-3)


def test_groups_file_and_perfect_predictions(ci_data_dir, tmp_path):
    ann, coco = _gt(ci_data_dir)
    groups = tmp_path / 'groups.json'
    groups.write_text(json.dumps(dict(minority_classes=MINORITY)))
    res = _evaluate(ann, _predictions(coco, set(CLASSES)), class_groups_file=str(groups))
    for key in ('all', 'maj', 'min'):
        assert res[f'coco/bbox_mAP_{key}'] == pytest.approx(1.0)


def test_group_average_precision_ignores_classes_without_gt():
    precision = -np.ones((2, 3, 3, 4, 3))
    precision[:, :, 0] = 0.5
    precision[:, :, 2] = 1.0
    assert group_average_precision(precision, np.array([True, True, False])) == 0.5
    assert group_average_precision(precision, np.array([True, False, True])) == 0.75
    assert np.isnan(group_average_precision(precision, np.array([False, True, False])))


def test_bad_groups_raise(ci_data_dir, tmp_path):
    ann, coco = _gt(ci_data_dir)
    with pytest.raises(ValueError, match='minority_classes, class_groups_file or frequency_groups'):
        GroupCocoMetric(ann_file=ann)
    with pytest.raises(FileNotFoundError, match='nowhere.json'):
        GroupCocoMetric(ann_file=ann, class_groups_file=str(tmp_path / 'nowhere.json'))
    with pytest.raises(ValueError, match="'sofa'"):
        _evaluate(ann, _predictions(coco, set(CLASSES)), minority_classes=['sofa'])


def _lvis_style(tmp_path):
    """A small LVIS-v1-style file: ``coco_url`` instead of ``file_name``, categories with a
    ``frequency``, annotations without ``iscrowd``; two boxes per class, 3 images."""
    cats = [dict(id=i + 1, name=n, frequency=f, synset=f'{n}.n.01')
            for i, (n, f) in enumerate([('aerosol_can', 'r'), ('apple', 'c'),
                                        ('banana', 'f'), ('bagel', 'f')])]
    images, anns = [], []
    for img_id in (1, 2, 3):
        images.append(dict(id=img_id, width=100, height=100,
                           coco_url=f'http://images.cocodataset.org/train2017/{img_id:012d}.jpg',
                           neg_category_ids=[], not_exhaustive_category_ids=[]))
    for k, cat in enumerate(cats):
        for j in range(2):
            x = 5 + 20 * k
            anns.append(dict(id=len(anns) + 1, image_id=1 + (k + j) % 3, category_id=cat['id'],
                             bbox=[x, 10 + 40 * j, 15, 20], area=300.0,
                             segmentation=[[x, 10, x + 15, 10, x + 15, 30]]))
    path = tmp_path / 'lvis_v1_tiny.json'
    path.write_text(json.dumps(dict(images=images, annotations=anns, categories=cats)))
    return str(path), cats, images, anns


def test_lvis_frequency_groups(tmp_path):
    ann, cats, images, anns = _lvis_style(tmp_path)
    names = tuple(c['name'] for c in cats)
    keep = {'banana', 'bagel', 'apple'}  # 'f' and 'c' predicted perfectly, 'r' missed
    samples = []
    for img in images:
        own = [a for a in anns if a['image_id'] == img['id'] and
               names[a['category_id'] - 1] in keep]
        samples.append(dict(
            img_id=img['id'], ori_shape=(100, 100),
            pred_instances=dict(
                bboxes=torch.tensor([[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2],
                                      a['bbox'][1] + a['bbox'][3]] for a in own]).reshape(-1, 4),
                scores=torch.ones(len(own)),
                labels=torch.tensor([a['category_id'] - 1 for a in own], dtype=torch.long))))
    metric = GroupCocoMetric(ann_file=ann, metric='bbox', frequency_groups=True)
    metric.dataset_meta = dict(classes=names)
    metric.process({}, samples)
    res = metric.evaluate(len(samples))
    assert res['coco/bbox_mAP_f'] == pytest.approx(1.0)
    assert res['coco/bbox_mAP_c'] == pytest.approx(1.0)
    assert res['coco/bbox_mAP_r'] == pytest.approx(0.0)
    assert res['coco/bbox_mAP_all'] == pytest.approx(0.75, abs=1e-3)
    assert 'coco/bbox_mAP_min' not in res and 'coco/bbox_mAP_50_r' in res
    # both group kinds at once
    metric = GroupCocoMetric(ann_file=ann, metric='bbox', frequency_groups=True,
                             minority_classes=['aerosol_can'])
    metric.dataset_meta = dict(classes=names)
    metric.process({}, samples)
    res = metric.evaluate(len(samples))
    assert res['coco/bbox_mAP_min'] == pytest.approx(0.0)
    assert res['coco/bbox_mAP_maj'] == pytest.approx(1.0)


def test_frequency_groups_need_lvis_categories(ci_data_dir):
    ann, coco = _gt(ci_data_dir)
    metric = GroupCocoMetric(ann_file=ann, metric='bbox', frequency_groups=True)
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process({}, _predictions(coco, set(CLASSES)))
    with pytest.raises(ValueError, match='have no LVIS frequency'):
        metric.evaluate(len(coco['images']))


def test_lvis_coco_format_dataset_reads_coco_url(tmp_path):
    from mmssl.datasets.lvis_coco_format import LVISV1CocoFormatDataset
    ann, cats, images, anns = _lvis_style(tmp_path)
    ds = LVISV1CocoFormatDataset(
        data_root=str(tmp_path), ann_file=ann, data_prefix=dict(img='images/'),
        metainfo=dict(classes=tuple(c['name'] for c in cats)), pipeline=[], lazy_init=False,
        test_mode=True)
    info = ds.get_data_info(0)
    assert info['img_path'].endswith('images/train2017/000000000001.jpg')
    assert len(info['instances']) == sum(a['image_id'] == 1 for a in anns)
    assert len(LVISV1CocoFormatDataset.METAINFO['classes']) == 1203
