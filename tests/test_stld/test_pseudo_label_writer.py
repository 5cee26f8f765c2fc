"""PseudoLabelWriter: predictions -> COCO file (matching, selection, hidden-GT quality)."""
import json

import numpy as np
import pytest

from mmssl.engine.runners.pseudo_label_writer import PseudoLabelWriter, match_annotations
from stld_helpers import single_thread  # noqa: F401

K = 68


def _coco(tmp_path):
    anns = []
    for i, (img, cx) in enumerate([(1, 30.0), (1, 90.0), (2, 50.0)]):
        kpts = np.zeros((K, 3))
        kpts[:, 0], kpts[:, 1], kpts[:, 2] = cx, 40.0, 2
        kpts[36, 0], kpts[45, 0] = cx - 10, cx + 10  # inter-ocular distance 20
        anns.append(dict(id=10 + i, image_id=img, category_id=1, iscrowd=0,
                         center=[cx, 40.0], scale=0.2, bbox=[cx - 20, 20, 40, 40],
                         keypoints=kpts.reshape(-1).tolist(), num_keypoints=K))
    coco = dict(images=[dict(id=1, file_name='a.png', width=128, height=64),
                        dict(id=2, file_name='b.png', width=128, height=64)],
                annotations=anns, categories=[dict(id=1, name='face')])
    gt = tmp_path / 'gt.json'
    gt.write_text(json.dumps(coco))
    unl = json.loads(json.dumps(coco))
    for a in unl['annotations']:
        a['keypoints'], a['num_keypoints'] = [0] * 3 * K, 0
    src = tmp_path / 'unlabeled.json'
    src.write_text(json.dumps(unl))
    return str(src), str(gt), coco


def _sample(img_id, cx, shift, score):
    kpts = np.zeros((1, K, 2), np.float32)
    kpts[..., 0], kpts[..., 1] = cx + shift, 40.0
    kpts[0, 36, 0], kpts[0, 45, 0] = cx - 10 + shift, cx + 10 + shift
    box = np.array([[cx - 20, 20, cx + 20, 60]], np.float32)
    return dict(img_id=img_id, pred_instances=dict(
        keypoints=kpts, keypoint_scores=np.full((1, K), score, np.float32)),
        gt_instances=dict(bboxes=box))


def test_predictions_are_matched_by_image_and_box(tmp_path):
    src, _, coco = _coco(tmp_path)
    ids = match_annotations(coco, [1, 2, 1], np.array(
        [[71, 21, 111, 61], [30, 20, 70, 60], [9, 19, 49, 59]], np.float32))
    assert ids == [11, 12, 10]  # nearest box of the same image, not the first annotation
    with pytest.raises(RuntimeError, match='image 7'):
        match_annotations(coco, [7], np.zeros((1, 4), np.float32))


def test_writer_selects_by_score_and_measures_pseudo_label_noise(tmp_path):
    src, gt, _ = _coco(tmp_path)
    out = tmp_path / 'pseudo.json'
    writer = PseudoLabelWriter(source_ann_file=src, out_file=str(out), score_thr=0.5,
                               gt_ann_file=gt)
    writer.dataset_meta = dict(dataset_name='300w')
    writer.process({}, [_sample(1, 30.0, 2.0, 0.9), _sample(1, 90.0, 0.0, 0.2),
                        _sample(2, 50.0, 4.0, 0.7)])
    metrics = writer.compute_metrics(writer.results)
    written = json.loads(out.read_text())
    assert [a['id'] for a in written['annotations']] == [10, 12]  # score 0.2 dropped
    assert [im['id'] for im in written['images']] == [1, 2]
    ann = written['annotations'][0]
    assert ann['center'] == [30.0, 40.0] and ann['scale'] == 0.2  # box fields kept
    assert ann['keypoints'][:3] == [32.0, 40.0, 2.0] and ann['num_keypoints'] == K
    assert metrics['num_labels'] == 2 and metrics['kept_frac'] == pytest.approx(2 / 3)
    # NME of all 3 predictions (before selection): shifts 2, 0, 4 px / inter-ocular 20
    assert metrics['NME'] == pytest.approx((0.1 + 0.0 + 0.2) / 3, rel=1e-5)


def test_writer_refuses_an_annotation_predicted_twice(tmp_path):
    src, _, _ = _coco(tmp_path)
    writer = PseudoLabelWriter(source_ann_file=src, out_file=str(tmp_path / 'p.json'))
    writer.process({}, [_sample(2, 50.0, 0.0, 1.0), _sample(2, 50.0, 1.0, 1.0)])
    with pytest.raises(RuntimeError, match='more than once'):
        writer.compute_metrics(writer.results)
    assert not (tmp_path / 'p.json').exists()
