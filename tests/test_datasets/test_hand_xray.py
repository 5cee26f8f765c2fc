"""Hand X-ray data: Payer et al.'s CSV -> COCO (converter function and tool), its errors, and
HandXrayDataset on the result (whole-image boxes, 37 keypoints, no flip pairs)."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from mmssl.datasets import HandXrayDataset
from mmssl.datasets.hand_xray_csv import hand_csv_to_coco, read_id_list, read_landmark_csv
from mmssl.datasets.synthetic_hand_xray import write_synthetic_hand_xray
from mmssl_testing import REPO_ROOT


@pytest.fixture
def hand(tmp_path):
    csv = write_synthetic_hand_xray(str(tmp_path / 'hand'), 3, seed=0, size=(40, 56))
    return Path(csv), tmp_path / 'hand' / 'images'


def _tool():
    path = REPO_ROOT / 'tools/dataset_converters/hand_xray_csv_to_coco.py'
    spec = importlib.util.spec_from_file_location('hand_xray_csv_to_coco', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def test_csv_rows_become_whole_image_instances(hand):
    csv, img_dir = hand
    ids, landmarks, _ = read_landmark_csv(str(csv))
    coco = hand_csv_to_coco(str(csv), str(img_dir))
    assert ids == ['h0', 'h1', 'h2'] and landmarks.shape == (3, 37, 2)
    assert [im['file_name'] for im in coco['images']] == ['h0.png', 'h1.png', 'h2.png']
    assert [im['case_id'] for im in coco['images']] == ids
    ann = coco['annotations'][1]
    assert ann['bbox'] == [0.0, 0.0, 40.0, 56.0]  # the whole 40 x 56 image
    kpts = np.array(ann['keypoints']).reshape(37, 3)
    np.testing.assert_allclose(kpts[:, :2], landmarks[1], atol=1e-3)
    assert (kpts[:, 2] == 2).all() and ann['num_keypoints'] == 37
    cat = coco['categories'][0]
    assert len(cat['keypoints']) == 37 and cat['keypoints'][1] == 'wrist_01'
    subset = hand_csv_to_coco(str(csv), str(img_dir), ids=['h2', 'h0'])
    assert [im['case_id'] for im in subset['images']] == ['h2', 'h0']


def _row(img_id='h0', n=74, value='1.0'):
    return ','.join([img_id] + [value] * n)


@pytest.mark.parametrize('lines, message', [
    ([_row(), _row('h1', n=72)], r'bad\.csv, line 2: 73 fields, expected 75'),
    (['id,' + ','.join(['x'] * 74), _row()], r"line 1: 'x' is not a number \(a header row"),
    ([_row(), '', _row()], r"line 3: image id 'h0' repeats line 1"),
    ([_row(value='nan')], 'line 1: non-finite coordinate'),
    ([',' + ','.join(['1'] * 74)], 'line 1: empty image id'),
    ([''], 'no landmark rows'),
])
def test_malformed_csv_names_file_and_line(tmp_path, lines, message):
    bad = tmp_path / 'bad.csv'
    bad.write_text('\n'.join(lines) + '\n')
    with pytest.raises(ValueError, match=message):
        read_landmark_csv(str(bad))


def test_missing_inputs_and_landmarks_outside_the_image(hand, tmp_path):
    csv, img_dir = hand
    with pytest.raises(FileNotFoundError, match='nope.csv'):
        read_landmark_csv(str(tmp_path / 'nope.csv'))
    (img_dir / 'h1.png').unlink()
    with pytest.raises(FileNotFoundError, match=r"no image for id 'h1' \(.*landmarks\.csv, "
                       r'line 2\)'):
        hand_csv_to_coco(str(csv), str(img_dir))
    with pytest.raises(ValueError, match=r"1 image ids \(from ids\.txt\) are not in .*\['h9'\]"):
        hand_csv_to_coco(str(csv), str(img_dir), ids=['h0', 'h9'], ids_file='ids.txt')
    rows = csv.read_text().splitlines()
    fields = rows[2].split(',')
    fields[1] = '400.0'  # x of landmark 0 beyond the 40 px wide image
    rows[2] = ','.join(fields)
    csv.write_text('\n'.join(rows) + '\n')
    with pytest.raises(ValueError, match=r'line 3: landmarks \[0\] of image .h2. lie outside '
                       r'its 40 x 56 pixels'):
        hand_csv_to_coco(str(csv), str(img_dir), ids=['h2'])
    empty = tmp_path / 'empty.txt'
    empty.write_text('\n')
    with pytest.raises(ValueError, match='no image ids'):
        read_id_list(str(empty))


def test_tool_writes_the_listed_ids_and_the_dataset_reads_them(hand, tmp_path):
    csv, img_dir = hand
    ids = tmp_path / 'train_ids.txt'
    ids.write_text('h0\nh2\n')
    out = tmp_path / 'annotations' / 'hand_xray_train.json'
    _tool()([str(csv), str(img_dir), '--ids', str(ids), '--out', str(out)])
    coco = json.loads(out.read_text())
    assert [im['case_id'] for im in coco['images']] == ['h0', 'h2']
    assert not list(out.parent.glob('.*.tmp'))  # written atomically, no leftover
    ds = HandXrayDataset(ann_file=str(out), data_prefix=dict(img=str(img_dir) + '/'),
                         pipeline=[])
    assert len(ds) == 2
    info = ds[0]
    assert info['keypoints'].shape == (1, 37, 2) and info['keypoints_visible'].sum() == 37
    np.testing.assert_allclose(info['bbox'], [[0, 0, 39, 55]])  # mmpose clips to w-1, h-1
    meta = ds.metainfo
    assert meta['dataset_name'] == 'hand_xray' and meta['num_keypoints'] == 37
    assert meta['flip_pairs'] == [] and meta['flip_indices'] == list(range(37))


def test_dataset_refuses_another_keypoint_count(hand, tmp_path):
    csv, img_dir = hand
    coco = hand_csv_to_coco(str(csv), str(img_dir))
    coco['annotations'][1]['keypoints'] = coco['annotations'][1]['keypoints'][:-3]
    path = tmp_path / 'short.json'
    path.write_text(json.dumps(coco))
    with pytest.raises(ValueError, match=r'short\.json: annotation 2 \(image 2\) has 108 '
                       r'keypoint values, expected 111'):
        HandXrayDataset(ann_file=str(path), data_prefix=dict(img=str(img_dir) + '/'))
