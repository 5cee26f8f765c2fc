import hashlib
import json

import numpy as np
from mmpose.datasets import CocoDataset, Face300WDataset

from mmssl.datasets.synthetic import (COCO_KEYPOINTS, generate_body_keypoints,
                                      generate_face_landmarks)


def _digest(path):
    return hashlib.md5(open(path, 'rb').read()).hexdigest()


def test_body_data_is_deterministic_and_coco_compatible(tmp_path):
    a = generate_body_keypoints(str(tmp_path / 'a'), 6, seed=5)
    b = generate_body_keypoints(str(tmp_path / 'b'), 6, seed=5)
    c = generate_body_keypoints(str(tmp_path / 'c'), 6, seed=6)
    assert _digest(a) == _digest(b) != _digest(c)
    assert _digest(tmp_path / 'a/images/train/000003.jpg') == \
        _digest(tmp_path / 'b/images/train/000003.jpg')
    coco = json.load(open(a))
    assert coco['categories'][0]['keypoints'] == COCO_KEYPOINTS
    anns = coco['annotations']
    assert len(anns) >= 6
    for ann in anns:
        kp = np.array(ann['keypoints']).reshape(17, 3)
        x, y, w, h = ann['bbox']
        vis = kp[:, 2] > 0
        # labeled keypoints lie in (or on the edge of) the box
        assert (kp[vis, 0] >= x - 2).all() and (kp[vis, 0] <= x + w + 2).all()
        assert (kp[vis, 1] >= y - 2).all() and (kp[vis, 1] <= y + h + 2).all()
        assert ann['num_keypoints'] == int(vis.sum())
    # frontal figures: the left shoulder is right of the right shoulder in the torso frame
    sh = np.array([np.array(a['keypoints']).reshape(17, 3)[[5, 6], 0] for a in anns])
    assert (sh[:, 0] > sh[:, 1]).mean() > 0.9
    ds = CocoDataset(ann_file=a, data_prefix=dict(img=str(tmp_path / 'a/images/train') + '/'))
    assert len(ds) == sum(ann['num_keypoints'] > 0 for ann in anns)


def test_face_data_is_300w_compatible(tmp_path):
    ann_file = generate_face_landmarks(str(tmp_path), 4, seed=0, image_size=96)
    ds = Face300WDataset(ann_file=ann_file,
                         data_prefix=dict(img=str(tmp_path / 'images/train') + '/'))
    assert len(ds) == 4
    info = ds[0]
    kp = info['keypoints'][0]
    assert kp.shape == (68, 2)
    assert kp[36, 0] < kp[39, 0] < kp[42, 0] < kp[45, 0]  # eye corners left to right
    assert kp[8, 1] > kp[57, 1] > kp[33, 1] > kp[27, 1]  # chin below mouth below nose
    assert (kp >= 0).all() and (kp < 96).all()
