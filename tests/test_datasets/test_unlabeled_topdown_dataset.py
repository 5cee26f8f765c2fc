import json

import numpy as np
import pytest

from mmssl.datasets import UnlabeledTopDownDataset


def _coco(fixtures_dir, **kwargs):
    return UnlabeledTopDownDataset(
        ann_file=str(fixtures_dir / 'coco/test_coco.json'),
        data_prefix=dict(img=str(fixtures_dir / 'coco') + '/'), **kwargs)


def test_gt_boxes_keep_instances_without_keypoints(fixtures_dir):
    ds = _coco(fixtures_dir)
    # all 14 non-crowd person boxes, including the two with 0 keypoints mmpose would drop
    assert len(ds) == 14
    info = ds[0]
    assert info['keypoints'].shape == (1, 17, 2) and info['keypoints_visible'].sum() == 0
    np.testing.assert_allclose(info['bbox'], [[280.79, 44.73, 280.79 + 218.7, 391.41]],
                               atol=0.01)


def test_min_num_keypoints_keeps_persons_with_labeled_keypoints(fixtures_dir, tmp_path):
    ds = _coco(fixtures_dir, min_num_keypoints=1)  # the paper's "COCO 150K" rule
    anns = json.load(open(fixtures_dir / 'coco/test_coco.json'))['annotations']
    assert len(ds) == sum(a['num_keypoints'] >= 1 for a in anns) == 12
    assert len(_coco(fixtures_dir, min_num_keypoints=16)) == 5
    assert all(ds[i]['keypoints_visible'].sum() == 0 for i in range(len(ds)))  # no labels
    with pytest.raises(ValueError, match='detector boxes'):
        _coco(fixtures_dir, min_num_keypoints=1,
              bbox_file=str(fixtures_dir / 'coco/test_coco_det_AP_H_56.json'))
    stripped = json.load(open(fixtures_dir / 'coco/test_coco.json'))
    for ann in stripped['annotations']:
        ann['num_keypoints'] = 0
    (tmp_path / 'stripped.json').write_text(json.dumps(stripped))
    with pytest.raises(ValueError, match=r'>= 1 labeled keypoints.*original annotations'):
        UnlabeledTopDownDataset(ann_file=str(tmp_path / 'stripped.json'), min_num_keypoints=1,
                                data_prefix=dict(img=str(fixtures_dir / 'coco') + '/'))


def test_detector_boxes_with_score_threshold(fixtures_dir):
    det = fixtures_dir / 'coco/test_coco_det_AP_H_56.json'
    expected = sum(d['score'] >= 0.5 for d in json.load(open(det)))
    ds = _coco(fixtures_dir, bbox_file=str(det), bbox_score_thr=0.5)
    assert len(ds) == expected == 18
    assert min(ds[i]['bbox_score'][0] for i in range(len(ds))) >= 0.5


def test_empty_set_names_file_and_threshold(fixtures_dir):
    det = fixtures_dir / 'coco/test_coco_det_AP_H_56.json'
    with pytest.raises(ValueError, match=r'unlabeled set is empty.*test_coco_det_AP_H_56'):
        _coco(fixtures_dir, bbox_file=str(det), bbox_score_thr=1.01)


def test_missing_files_are_named(fixtures_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.json'):
        UnlabeledTopDownDataset(ann_file=str(tmp_path / 'nope.json'))
    with pytest.raises(FileNotFoundError, match='dets.json'):
        _coco(fixtures_dir, bbox_file=str(tmp_path / 'dets.json'))


def test_face_metainfo_and_center_scale(fixtures_dir):
    ann = json.load(open(fixtures_dir / '300w/test_300w.json'))['annotations'][0]
    ds = UnlabeledTopDownDataset(
        ann_file=str(fixtures_dir / '300w/test_300w.json'),
        metainfo=dict(from_file='configs/_base_/datasets/300w.py'),
        data_prefix=dict(img=str(fixtures_dir / '300w') + '/'))
    info = [ds[i] for i in range(len(ds)) if ds[i]['img_id'] == ann['image_id']][0]
    assert info['keypoints'].shape == (1, 68, 2)
    np.testing.assert_allclose(info['bbox_center'][0], ann['center'])
    np.testing.assert_allclose(info['bbox_scale'][0], [ann['scale'] * 200] * 2, rtol=1e-5)
