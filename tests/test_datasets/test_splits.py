import json
import subprocess
import sys

import pytest

from mmssl.datasets.splits import (load_coco, split_first_n_instances, split_nested_landmarks,
                                   split_random_percent)
from mmssl.datasets.synthetic import generate_face_landmarks


def test_first_n_follows_image_order_and_skips_empty(fixtures_dir):
    coco = load_coco(str(fixtures_dir / 'coco/test_coco.json'))
    lab, unl = split_first_n_instances(coco, 4)
    # 1202706 (image 40083) has 0 keypoints and is skipped
    assert [a['id'] for a in lab['annotations']] == [442619, 198196, 230195, 460541]
    assert {i['id'] for i in lab['images']} == {785, 40083, 196141}
    assert len(unl['annotations']) == 14  # paper: every person box is unlabeled
    assert all(a['num_keypoints'] == 0 and not any(a['keypoints'])
               for a in unl['annotations'])
    _, rest = split_first_n_instances(coco, 4, unlabeled='rest')
    assert len(rest['annotations']) == 10
    with pytest.raises(ValueError, match='cannot label 13'):
        split_first_n_instances(coco, 13)


def test_random_percent_partitions_images(fixtures_dir):
    coco = load_coco(str(fixtures_dir / 'coco/test_coco.json'))
    lab, unl = split_random_percent(coco, 50, fold=1)
    li, ui = {i['id'] for i in lab['images']}, {i['id'] for i in unl['images']}
    assert len(li) == 2 and not li & ui and li | ui == {785, 40083, 196141, 197388}
    assert split_random_percent(coco, 50, fold=1)[0] == lab
    assert {i['id'] for i in split_random_percent(coco, 50, fold=2)[0]['images']} != li or \
        {i['id'] for i in split_random_percent(coco, 50, fold=3)[0]['images']} != li


def test_nested_landmark_splits(tmp_path):
    ann = generate_face_landmarks(str(tmp_path), 12, seed=0, image_size=64)
    coco = load_coco(ann)
    splits = split_nested_landmarks(coco, [3, 6], seed=1234)
    l3 = {i['id'] for i in splits[3][0]['images']}
    l6 = {i['id'] for i in splits[6][0]['images']}
    u6 = {i['id'] for i in splits[6][1]['images']}
    assert len(l3) == 3 and l3 < l6 and not l6 & u6 and len(l6 | u6) == 12
    assert split_nested_landmarks(coco, [3], seed=1234)[3][0] == splits[3][0]
    assert {i['id'] for i in split_nested_landmarks(coco, [3], seed=1)[3][0]['images']} != l3


def test_split_tools_write_coco_files(fixtures_dir, repo_root, tmp_path):
    out = subprocess.run([sys.executable, str(repo_root / 'tools/misc/split_coco_keypoints.py'),
                          str(fixtures_dir / 'coco/test_coco.json'), '--first-n', '4',
                          '--out-dir', str(tmp_path)], check=True, capture_output=True,
                         text=True).stdout
    lab = json.load(open(tmp_path / 'test_coco.labeled@first4.json'))
    assert len(lab['annotations']) == 4 and lab['categories'][0]['name'] == 'person'
    # default: the paper's unlabeled set, persons with >= 1 labeled keypoint (12 of 14 here)
    assert '14 non-crowd person boxes, 12 with >= 1 labeled keypoints' in out
    unl = json.load(open(tmp_path / 'test_coco.unlabeled@first4.json'))
    assert len(unl['annotations']) == 12
    subprocess.run([sys.executable, str(repo_root / 'tools/misc/split_coco_keypoints.py'),
                    str(fixtures_dir / 'coco/test_coco.json'), '--first-n', '4',
                    '--unlabeled-min-keypoints', '0', '--out-dir', str(tmp_path)], check=True,
                   capture_output=True)
    unl = json.load(open(tmp_path / 'test_coco.unlabeled@first4.json'))
    assert len(unl['annotations']) == 14
    subprocess.run([sys.executable, str(repo_root / 'tools/misc/split_landmarks.py'),
                    '--ann-file', str(fixtures_dir / '300w/test_300w.json'), '--num-labeled',
                    '1', '--out-dir', str(tmp_path)], check=True)
    unl = json.load(open(tmp_path / 'test_300w.unlabeled@1.json'))
    assert len(unl['images']) == 1 and unl['annotations'][0]['num_keypoints'] == 0
