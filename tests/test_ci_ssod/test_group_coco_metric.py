"""GroupCocoMetric: AP on all / majority / minority classes against known predictions."""
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
    with pytest.raises(ValueError, match='minority_classes or class_groups_file'):
        GroupCocoMetric(ann_file=ann)
    with pytest.raises(FileNotFoundError, match='nowhere.json'):
        GroupCocoMetric(ann_file=ann, class_groups_file=str(tmp_path / 'nowhere.json'))
    with pytest.raises(ValueError, match="'sofa'"):
        _evaluate(ann, _predictions(coco, set(CLASSES)), minority_classes=['sofa'])
