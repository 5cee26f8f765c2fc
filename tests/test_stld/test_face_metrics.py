"""FaceLandmarkMetric: NME as mmpose computes it, plus AUC@0.1 and FR@0.1 (closed forms)."""
import numpy as np
import pytest
from mmpose.evaluation.metrics import NME

from mmssl.evaluation.face_metrics import FaceLandmarkMetric, ced_auc_fr, per_image_nme
from stld_helpers import single_thread  # noqa: F401


def _samples(pred, gt, bbox_size=None):
    out = []
    for i in range(len(pred)):
        gt_inst = dict(keypoints=gt[i:i + 1], keypoints_visible=np.ones((1, gt.shape[1])))
        if bbox_size is not None:
            s = bbox_size[i]
            gt_inst['bboxes'] = np.array([[0, 0, s, s / 2]], np.float32)
        out.append(dict(pred_instances=dict(keypoints=pred[i:i + 1]), gt_instances=gt_inst))
    return out


def _run(metric, samples, meta):
    metric.dataset_meta = meta
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


def test_ced_auc_and_failure_rate_closed_form():
    nmes = np.array([0.0, 0.05, 0.2])
    auc, fr = ced_auc_fr(nmes, thr=0.1, step=1e-5)
    # CED = 1/3 on [0, 0.05), 2/3 on [0.05, 0.1]; area / 0.1 = (0.05/3 + 0.05*2/3) / 0.1
    assert auc == pytest.approx(0.5, abs=1e-3)
    assert fr == pytest.approx(1 / 3)
    assert ced_auc_fr(np.zeros(4))[0] == pytest.approx(1.0)  # perfect: AUC 1, FR 0
    with pytest.raises(ValueError, match='no image'):
        ced_auc_fr(np.array([np.nan]))


def test_per_image_nme_ignores_invisible_points():
    pred = np.zeros((2, 3, 2))
    gt = np.array([[[3, 4], [0, 0], [6, 8]], [[1, 0], [1, 0], [1, 0]]], float)
    mask = np.array([[1, 1, 0], [1, 1, 1]], bool)
    np.testing.assert_allclose(per_image_nme(pred, gt, mask, np.array([10.0, 2.0])),
                               [(5 + 0) / 2 / 10, 1 / 2])


def test_interocular_nme_auc_fr_on_300w_layout():
    rng = np.random.default_rng(0)
    gt = rng.uniform(0, 100, (6, 68, 2))
    gt[:, 36], gt[:, 45] = [20, 50], [80, 50]  # inter-ocular distance 60
    errors = np.array([0.0, 0.01, 0.03, 0.05, 0.08, 0.2])  # NME of each image
    pred = gt + (errors * 60)[:, None, None] * np.array([1.0, 0.0])
    meta = dict(dataset_name='300w', keypoint_id2name={i: str(i) for i in range(68)})
    ours = _run(FaceLandmarkMetric(norm_mode='keypoint_distance'), _samples(pred, gt), meta)
    theirs = _run(NME(norm_mode='keypoint_distance'), _samples(pred, gt), meta)
    assert ours['NME'] == pytest.approx(theirs['NME']) == pytest.approx(errors.mean())
    xs = np.linspace(0, 0.1, 100001)
    ced = (errors[None] <= xs[:, None]).mean(1)
    assert ours['AUC@0.1'] == pytest.approx(np.trapz(ced, xs) / 0.1, abs=1e-3)
    assert ours['FR@0.1'] == pytest.approx(1 / 6)


def test_box_size_normalisation_for_aflw():
    gt = np.zeros((2, 19, 2))
    pred = gt + np.array([3.0, 4.0])  # every point off by 5 px
    metric = FaceLandmarkMetric(norm_mode='use_norm_item', norm_item='bbox_size')
    out = _run(metric, _samples(pred, gt, bbox_size=[100.0, 50.0]),
               dict(dataset_name='aflw'))
    assert out['NME'] == pytest.approx((0.05 + 0.1) / 2)  # box size = longer side
    assert out['FR@0.1'] == 0.0  # 0.1 is not a failure (> thr)
