"""GbT: thresholds follow the formula; running confidences; warm-up; counts."""
import pytest
import torch

from mmssl.models.detectors import ClassWiseThresholds, gbt_thresholds


def test_thresholds_follow_the_formula():
    s = torch.tensor([0.9, 0.6, 0.3, 0.75])
    w = torch.tensor([0.8, 1.0, 3.0, 1.5, 0.5])  # last entry = background, ignored
    thr = gbt_thresholds(s, w, base_thr=0.9, min_thr=0.5)
    mean = s.mean()
    for c in range(4):
        expected = min(max(min(0.9 * s[c] / mean, 0.9 / w[c]), 0.5), 0.9)
        assert thr[c].item() == pytest.approx(float(expected), rel=1e-6)
    # hand values: class 0 capped at 0.9, class 2 clamped to 0.5, class 3 = 0.9 / 1.5
    assert thr.tolist() == pytest.approx([0.9, 0.9 * 0.6 / 0.6375, 0.5, 0.6], rel=1e-5)
    without_w = gbt_thresholds(s, None)
    assert without_w[3].item() == pytest.approx(0.9, rel=1e-6)  # 0.9 * 0.75 / 0.6375 > 0.9
    with pytest.raises(ValueError, match='class_weights has'):
        gbt_thresholds(s, torch.ones(7))


def test_running_confidence_warmup_and_counts():
    gbt = ClassWiseThresholds(3, warmup_iters=2, num_init=4, momentum=0.5)
    gbt.observe(torch.tensor([0, 0, 1]), torch.tensor([0.8, 0.6, 0.9]))
    gbt.count_pseudo_labels(torch.tensor([0, 1, 1]))
    out = gbt.step(torch.tensor([1.0, 1.0, 1.0, 1.0]))
    # start-up rule: sum / num_init
    assert gbt.mean_scores.tolist() == pytest.approx([1.4 / 4, 0.9 / 4, 0.0])
    assert out['pseudo_counts'].tolist() == [1.0, 2.0, 0.0]
    assert torch.equal(gbt.get(), torch.full((3, ), 0.9))  # warm-up: fixed threshold
    gbt.observe(torch.tensor([0, 0, 1]), torch.tensor([0.7, 0.9, 0.5]))
    gbt.step(torch.tensor([1.0, 2.0, 1.0, 1.0]))
    assert gbt.num_detections.tolist() == [4.0, 2.0, 0.0]
    assert gbt.mean_scores[0].item() == pytest.approx(3.0 / 4)
    assert gbt.is_active
    expected = gbt_thresholds(gbt.mean_scores, torch.tensor([1.0, 2.0, 1.0]))
    assert torch.allclose(gbt.get(), expected)
    # class 0 is past num_init: EMA per detection with the batch mean
    gbt.observe(torch.tensor([0, 0]), torch.tensor([0.2, 0.4]))
    gbt.step(None)
    assert gbt.mean_scores[0].item() == pytest.approx(0.25 * 0.75 + 0.75 * 0.3)


def test_disabled_keeps_base_threshold():
    gbt = ClassWiseThresholds(2, warmup_iters=0, enable=False)
    gbt.observe(torch.tensor([0, 1]), torch.tensor([0.9, 0.1]))
    gbt.step(torch.tensor([5.0, 5.0, 1.0]))
    assert torch.equal(gbt.get(), torch.full((2, ), 0.9))
    assert gbt.mean_scores.sum() > 0  # confidences still logged
