"""LandmarkMRE: radial errors in mm with a per-image scale from the wrist width (hand-made
predictions whose errors are known in closed form)."""
import numpy as np
import pytest

from mmssl.datasets.hand_xray_dataset import WRIST_WIDTH_KEYPOINTS, WRIST_WIDTH_MM
from mmssl.evaluation import LandmarkMRE
from mmssl.evaluation.landmark_mre import radial_errors_mm

K = 37


def _gt(wrist_px: float, rng) -> np.ndarray:
    """37 points with landmarks 1 and 5 ``wrist_px`` apart (horizontal)."""
    gt = rng.uniform(100, 400, (K, 2))
    gt[1], gt[5] = [200.0, 450.0], [200.0 + wrist_px, 450.0]
    return gt


def _samples(pred, gt, visible=None):
    visible = np.ones(gt.shape[:2]) if visible is None else visible
    return [dict(pred_instances=dict(keypoints=pred[i:i + 1]),
                 gt_instances=dict(keypoints=gt[i:i + 1], keypoints_visible=visible[i:i + 1]))
            for i in range(len(gt))]


def _run(metric, samples):
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


def test_mm_scale_from_the_wrist_width_of_each_image():
    rng = np.random.default_rng(0)
    # image 0: wrist 100 px = 50 mm -> 0.5 mm/px; image 1: wrist 50 px -> 1 mm/px
    gt = np.stack([_gt(100.0, rng), _gt(50.0, rng)])
    offsets_px = np.zeros((2, K))
    offsets_px[0] = 2.0  # 1 mm each
    offsets_px[0, :3] = [6.0, 8.0, 30.0]  # 3, 4, 15 mm
    offsets_px[1] = 1.5  # 1.5 mm each
    offsets_px[1, 10] = 12.0  # 12 mm
    angle = rng.uniform(0, 2 * np.pi, (2, K))  # direction does not matter for the radius
    pred = gt + offsets_px[..., None] * np.stack([np.cos(angle), np.sin(angle)], -1)
    mm = offsets_px * np.array([[0.5], [1.0]])
    out = _run(LandmarkMRE(), _samples(pred, gt))
    assert out['MRE'] == pytest.approx(mm.mean())
    assert out['MRE_std'] == pytest.approx(mm.std())
    assert out['SDR@2mm'] == pytest.approx(100 * np.mean(mm < 2))
    assert out['SDR@2mm'] == pytest.approx(100 * (2 * K - 4) / (2 * K))
    assert out['SDR@4mm'] == pytest.approx(100 * (2 * K - 3) / (2 * K))  # 4 mm is not < 4
    assert out['SDR@10mm'] == pytest.approx(100 * (2 * K - 2) / (2 * K))
    assert set(out) == {'MRE', 'MRE_std', 'SDR@2mm', 'SDR@4mm', 'SDR@10mm'}


def test_the_scale_uses_the_ground_truth_not_the_prediction():
    rng = np.random.default_rng(1)
    gt = _gt(100.0, rng)[None]
    pred = gt.copy()
    pred[0, 5, 0] += 40.0  # the predicted wrist is wider: 40 px = 20 mm error there
    err = radial_errors_mm(pred, gt, np.ones((1, K), bool), (1, 5), 50.0)
    assert err[0, 5] == pytest.approx(20.0) and np.nansum(err) == pytest.approx(20.0)


def test_invisible_points_and_unscalable_images_are_left_out():
    rng = np.random.default_rng(2)
    gt = np.stack([_gt(100.0, rng), _gt(100.0, rng), _gt(0.0, rng)])
    pred = gt + [4.0, 0.0]  # 2 mm everywhere (where a scale exists)
    visible = np.ones((3, K))
    visible[0, 20] = 0  # one invisible landmark: not counted
    visible[1, 5] = 0  # image 1 has no wrist pair -> no scale -> left out
    pred[0, 20] += 1000.0  # would dominate the mean if it counted
    out = _run(LandmarkMRE(sdr_thresholds=(2.5, )), _samples(pred, gt, visible))
    assert out['MRE'] == pytest.approx(2.0)  # image 2: coincident pair -> left out too
    assert out['SDR@2.5mm'] == pytest.approx(100.0)
    with pytest.raises(ValueError, match='none of the 1 images'):
        _run(LandmarkMRE(), _samples(pred[2:], gt[2:]))


def test_other_reference_pair_and_length():
    gt = np.zeros((1, 4, 2))
    gt[0, 2], gt[0, 3] = [0, 0], [0, 20]  # 20 px = 10 mm -> 0.5 mm/px
    pred = gt + [6.0, 8.0]  # 10 px -> 5 mm
    out = _run(LandmarkMRE(reference_keypoints=(2, 3), reference_mm=10.), _samples(pred, gt))
    assert out['MRE'] == pytest.approx(5.0) and out['SDR@10mm'] == 100.0
    with pytest.raises(ValueError, match='out of range for 4 keypoints'):
        _run(LandmarkMRE(reference_keypoints=(1, 9)), _samples(pred, gt))


@pytest.mark.parametrize('kwargs, message', [
    (dict(reference_keypoints=(1, 1)), 'two different'),
    (dict(reference_keypoints=(1, 5, 6)), 'two different'),
    (dict(reference_mm=0.), 'reference_mm must be > 0'),
    (dict(sdr_thresholds=(2., -1.)), 'positive radii'),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LandmarkMRE(**kwargs)


def test_defaults_are_payers_wrist_width():
    metric = LandmarkMRE()
    assert metric.reference_keypoints == WRIST_WIDTH_KEYPOINTS == (1, 5)
    assert metric.reference_mm == WRIST_WIDTH_MM == 50.0
