"""Unlabeled boxes from an image folder (omni setting): whole-image boxes, a detector's results
file (score filter, best box per image), nested subsets, the bad-input errors, the dataset
class that reads a folder directly, the tool, and the labeled sets' dataset classes reading
pseudo-label files made from the boxes (300W's center/scale, the hands' bbox)."""
import importlib.util
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmpose.datasets import Face300WDataset

from mmssl.datasets import HandXrayDataset, UnlabeledImageFolderDataset
from mmssl.datasets.image_folder import (image_folder_to_coco, list_images,
                                         nested_image_subsets)
from mmssl_testing import REPO_ROOT

FACE_META = dict(from_file='configs/_base_/datasets/300w.py')


@pytest.fixture
def folder(tmp_path):
    """Four images of different sizes, one in a sub-folder, and a non-image file."""
    root = tmp_path / 'celeba'
    (root / 'sub').mkdir(parents=True)
    for name, (w, h) in {'a.jpg': (40, 50), 'b.png': (60, 30), 'c.png': (32, 32),
                         'sub/d.jpg': (50, 40)}.items():
        cv2.imwrite(str(root / name), np.full((h, w, 3), 90, np.uint8))
    (root / 'notes.txt').write_text('not an image')
    return root


def _dets(tmp_path, entries, name='dets.json'):
    path = tmp_path / name
    path.write_text(json.dumps(entries))
    return str(path)


def test_whole_image_boxes(folder):
    coco = image_folder_to_coco(str(folder), num_keypoints=68, category='face')
    assert [im['file_name'] for im in coco['images']] == ['a.jpg', 'b.png', 'c.png',
                                                          'sub/d.jpg']
    ann = coco['annotations'][1]  # b.png: 60 x 30
    assert ann['bbox'] == [0.0, 0.0, 60.0, 30.0] and ann['center'] == [30.0, 15.0]
    assert ann['scale'] == pytest.approx(60 / 200)  # mmpose's face convention: side / 200
    assert ann['keypoints'] == [0] * 204 and ann['num_keypoints'] == 0
    assert coco['categories'] == [dict(id=1, name='face', supercategory='face')]


def test_detector_boxes_score_filter_and_best_per_image(folder, tmp_path):
    dets = _dets(tmp_path, [
        dict(file_name='a.jpg', bbox=[2, 3, 20, 24], score=0.95),
        dict(file_name='a.jpg', bbox=[10, 10, 8, 8], score=0.7),  # second face: not kept
        dict(image='b.png', bbox=[5, 5, 20, 20], score=0.3),  # below the threshold
        dict(file_name='sub/d.jpg', bbox=[0, 0, 10, 0.5], score=0.9),  # too thin
        dict(file_name='sub/d.jpg', bbox=[4, 4, 30, 20], score=0.8),
    ])
    coco = image_folder_to_coco(str(folder), 37, det_file=dets, score_thr=0.5,
                                min_box_size=2)
    assert [im['file_name'] for im in coco['images']] == ['a.jpg', 'sub/d.jpg']
    assert [a['bbox'] for a in coco['annotations']] == [[2, 3, 20, 24], [4, 4, 30, 20]]
    assert [a['score'] for a in coco['annotations']] == [0.95, 0.8]
    both = image_folder_to_coco(str(folder), 37, det_file=dets, score_thr=0.5,
                                max_per_image=None)
    assert len(both['annotations']) == 3  # a.jpg twice, d.jpg once (0.5 px < 1 px default)
    scaled = image_folder_to_coco(str(folder), 37, det_file=dets, score_thr=0.9,
                                  box_scale=1.5)['annotations'][0]
    assert scaled['bbox'] == pytest.approx([-3, -3, 30, 36])  # about the centre (12, 15)
    assert scaled['scale'] == pytest.approx(36 / 200)


@pytest.mark.parametrize('entries, message', [
    ({'file_name': 'a.jpg'}, 'must be a JSON list'),
    (['a.jpg'], 'entry 0 is not a dict'),
    ([dict(bbox=[0, 0, 1, 1], score=1)], 'entry 0 has no "file_name"'),
    ([dict(file_name='a.jpg', bbox=[0, 0, 1], score=1)], r'entry 0 \(a.jpg\): "bbox" must'),
    ([dict(file_name='a.jpg', bbox=[0, 0, 'w', 1], score=1)], '"bbox" must be'),
    ([dict(file_name='a.jpg', bbox=[0, 0, 1, 1])], r'"score" must be a number, got None'),
    ([dict(file_name='a.jpg', bbox=[0, 0, 1, 1], score=1),
      dict(file_name='zz.jpg', bbox=[0, 0, 1, 1], score=1)],
     r'entry 1: "zz.jpg" is not an image of the folder'),
])
def test_malformed_detection_files_name_file_and_entry(folder, tmp_path, entries, message):
    dets = _dets(tmp_path, entries, 'bad_dets.json')
    with pytest.raises(ValueError, match=message) as err:
        image_folder_to_coco(str(folder), 68, det_file=dets)
    assert 'bad_dets.json' in str(err.value)


def test_missing_or_empty_inputs(folder, tmp_path):
    with pytest.raises(FileNotFoundError, match='image folder not found: .*nope'):
        list_images(str(tmp_path / 'nope'))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(ValueError, match='no images'):
        list_images(str(tmp_path / 'empty'))
    with pytest.raises(FileNotFoundError, match='detection results file not found'):
        image_folder_to_coco(str(folder), 68, det_file=str(tmp_path / 'dets.json'))
    (tmp_path / 'broken.json').write_text('[{')
    with pytest.raises(ValueError, match='broken.json is not valid JSON'):
        image_folder_to_coco(str(folder), 68, det_file=str(tmp_path / 'broken.json'))
    dets = _dets(tmp_path, [dict(file_name='a.jpg', bbox=[0, 0, 9, 9], score=0.2)])
    with pytest.raises(ValueError, match=r'no unlabeled box .*dets.json \(score >= 0.5'):
        image_folder_to_coco(str(folder), 68, det_file=dets, score_thr=0.5)
    with pytest.raises(ValueError, match='box_scale must be > 0'):
        image_folder_to_coco(str(folder), 68, box_scale=0)
    with pytest.raises(ValueError, match='num_keypoints must be >= 1'):
        image_folder_to_coco(str(folder), 0)


def test_nested_subsets(folder):
    coco = image_folder_to_coco(str(folder), 5)
    parts = nested_image_subsets(coco, [1, 3, 4], seed=1234)
    names = {n: {im['file_name'] for im in p['images']} for n, p in parts.items()}
    assert [len(v) for v in names.values()] == [1, 3, 4]
    assert names[1] < names[3] < names[4]
    assert all(len(p['annotations']) == len(p['images']) for p in parts.values())
    with pytest.raises(ValueError, match='cannot take 5 of the 4 images'):
        nested_image_subsets(coco, [5])


def test_dataset_reads_a_folder_directly(folder, tmp_path):
    ds = UnlabeledImageFolderDataset(data_prefix=dict(img=str(folder) + '/'),
                                     metainfo=FACE_META, pipeline=[])
    assert len(ds) == 4
    info = ds[1]
    assert info['img_path'].endswith('b.png') and info['keypoints'].shape == (1, 68, 2)
    assert info['keypoints_visible'].sum() == 0
    np.testing.assert_allclose(info['bbox_center'][0], [30, 15])
    dets = _dets(tmp_path, [dict(file_name='c.png', bbox=[1, 1, 20, 20], score=0.9)])
    ds = UnlabeledImageFolderDataset(data_root=str(tmp_path), data_prefix=dict(img='celeba/'),
                                     det_file='dets.json', metainfo=FACE_META, pipeline=[])
    assert len(ds) == 1 and ds[0]['img_path'].endswith('c.png')
    with pytest.raises(ValueError, match='reads a folder .*not ann_file'):
        UnlabeledImageFolderDataset(ann_file='x.json', data_prefix=dict(img=str(folder)))
    with pytest.raises(ValueError, match='no unlabeled box'):
        UnlabeledImageFolderDataset(data_prefix=dict(img=str(folder) + '/'), det_file=dets,
                                    det_score_thr=0.95, metainfo=FACE_META)


def _as_pseudo_labels(coco: dict, num_keypoints: int) -> dict:
    """What the pseudo-label writer makes of the file: predicted keypoints filled in."""
    for ann in coco['annotations']:
        ann['keypoints'] = [5.0, 6.0, 2.0] * num_keypoints
        ann['num_keypoints'] = num_keypoints
    return coco


def test_labeled_dataset_classes_read_pseudo_labels_made_from_folder_boxes(folder, tmp_path):
    dets = _dets(tmp_path, [dict(file_name='b.png', bbox=[10, 4, 20, 16], score=0.9)])
    faces = _as_pseudo_labels(image_folder_to_coco(str(folder), 68, det_file=dets), 68)
    (tmp_path / 'faces.json').write_text(json.dumps(faces))
    ds = Face300WDataset(ann_file=str(tmp_path / 'faces.json'),
                         data_prefix=dict(img=str(folder) + '/'), pipeline=[])
    np.testing.assert_allclose(ds[0]['bbox'], [[10, 2, 30, 22]])  # square of the longer side
    hands = _as_pseudo_labels(image_folder_to_coco(str(folder), 37), 37)
    (tmp_path / 'hands.json').write_text(json.dumps(hands))
    ds = HandXrayDataset(ann_file=str(tmp_path / 'hands.json'),
                         data_prefix=dict(img=str(folder) + '/'), pipeline=[])
    assert len(ds) == 4
    np.testing.assert_allclose(ds[0]['bbox'], [[0, 0, 39, 49]])  # a.jpg, whole image


def test_tool_writes_nested_files_atomically(folder, tmp_path):
    path = REPO_ROOT / 'tools/dataset_converters/image_folder_to_coco.py'
    spec = importlib.util.spec_from_file_location('image_folder_to_coco', path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = tmp_path / 'annotations'
    written = tool.main([str(folder), '--num-keypoints', '37', '--num-images', '2', '3',
                         '--out-dir', str(out), '--stem', 'rsna'])
    assert [Path(p).name for p in written] == ['rsna.unlabeled@2.json', 'rsna.unlabeled@3.json']
    small, large = (json.loads(Path(p).read_text()) for p in written)
    assert {i['file_name'] for i in small['images']} < {i['file_name'] for i in large['images']}
    written = tool.main([str(folder), '--num-keypoints', '37', '--out-dir', str(out),
                         '--stem', 'rsna'])
    assert Path(written[0]).name == 'rsna.unlabeled@all.json'
    assert len(json.loads(Path(written[0]).read_text())['images']) == 4
    assert not list(out.glob('.*.tmp'))
