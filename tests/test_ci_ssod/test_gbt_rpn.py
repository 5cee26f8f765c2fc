"""GbT and the RPN (issue 13 item 4): ``semi_train_cfg.gbt.rpn`` = 'fixed' | 'class_wise'.

A minority pseudo-box with ``theta_c < score < rpn_pseudo_thr`` must reach the student RPN's
targets only in 'class_wise' mode; both modes run SoftTeacher's own RPN loss (super())."""
import copy

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmengine.structures import InstanceData

CONFIG = 'ci-ssod_soft-teacher_faster-rcnn_r50-caffe_fpn_180k_coco-split1.py'


def _model(tiny_cfg, mode):
    cfg = tiny_cfg(CONFIG)
    init_default_scope('mmdet')
    cfg.model.semi_train_cfg.gbt.rpn = mode
    model = MODELS.build(cfg.model)
    # GbT active: class 0 (minority in the test) at 0.6, the others at 0.9
    model.gbt.num_updates.fill_(10**6)
    model.gbt.thresholds.fill_(0.9)
    model.gbt.thresholds[0] = 0.6
    return cfg, model


def _pseudo_sample():
    sample = DetDataSample(metainfo=dict(img_id=3, img_shape=(64, 64), pad_shape=(64, 64),
                                         batch_input_shape=(64, 64)))
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor([[4., 4., 30., 30.], [30., 30., 60., 60.], [10., 30., 40., 60.]]),
        labels=torch.tensor([0, 1, 0]),
        scores=torch.tensor([0.75, 0.95, 0.55]))  # minority in (theta, 0.9), major, below
    return sample


def _rpn_targets(model, sample):
    """Boxes that SoftTeacher.rpn_loss_by_pseudo_instances hands to the student RPN."""
    seen = []

    def spy(x, data_samples, proposal_cfg=None):
        seen.append([s.gt_instances.bboxes.clone() for s in data_samples])
        return {}, []

    model.student.rpn_head.loss_and_predict = spy
    x = tuple(torch.randn(1, 32, s, s) for s in (16, 8, 4, 2, 1))
    model.rpn_loss_by_pseudo_instances(x, [sample])
    (boxes, ), = seen
    return boxes


@pytest.mark.parametrize('mode, expected', [('fixed', [1]), ('class_wise', [0, 1])])
def test_minority_box_reaches_rpn_only_class_wise(tiny_cfg, mode, expected):
    _, model = _model(tiny_cfg, mode)
    sample = _pseudo_sample()
    boxes = _rpn_targets(model, sample)
    assert torch.equal(boxes, sample.gt_instances.bboxes[expected])
    assert model.semi_train_cfg.rpn_pseudo_thr == 0.9  # restored after the call
    assert len(sample.gt_instances) == 3  # input not modified
    assert model.gbt._pending is None or model.gbt._pending[2].sum() == 0  # RPN: not counted


def test_class_wise_equals_fixed_before_warmup(tiny_cfg):
    _, model = _model(tiny_cfg, 'class_wise')
    model.gbt.num_updates.fill_(0)  # warm-up: theta = tau for every class
    boxes = _rpn_targets(model, _pseudo_sample())
    assert len(boxes) == 1
    assert torch.allclose(model.rpn_thresholds(), torch.full((6, ), 0.9))


def test_rpn_thresholds_follow_rpn_pseudo_thr(tiny_cfg):
    _, model = _model(tiny_cfg, 'class_wise')
    model.semi_train_cfg.rpn_pseudo_thr = 0.45  # half of cls_pseudo_thr
    assert model.rpn_thresholds()[0] == pytest.approx(0.3)
    assert model.rpn_thresholds()[1] == pytest.approx(0.45)


def test_class_wise_trains_end_to_end(tiny_cfg):
    cfg, model = _model(tiny_cfg, 'class_wise')
    for key in ('pseudo_label_initial_score_thr', 'cls_pseudo_thr', 'rpn_pseudo_thr'):
        model.semi_train_cfg[key] = 0.12
    model.gbt.base_thr = 0.12
    model.gbt.min_thr = 0.1
    model.gbt.thresholds.fill_(0.11)
    data = next(iter(Runner.build_dataloader(cfg.train_dataloader, seed=0)))
    torch.manual_seed(0)
    losses = model(**model.data_preprocessor(copy.deepcopy(data), True), mode='loss')
    assert 'unsup_loss_rpn_cls' in losses
    total = sum(v.sum() for k, v in losses.items() if 'loss' in k and torch.is_tensor(v))
    total.backward()
    assert model.semi_train_cfg.rpn_pseudo_thr == 0.12


def test_bad_rpn_modes_raise(tiny_cfg):
    cfg = tiny_cfg(CONFIG)
    init_default_scope('mmdet')
    cfg.model.semi_train_cfg.gbt.rpn = 'adaptive'
    with pytest.raises(ValueError, match="gbt.rpn='adaptive' is not supported by CISoftTeacher"):
        MODELS.build(cfg.model)
    cfg = tiny_cfg('ci-ssod_semi-base_faster-rcnn_r50-caffe_fpn_180k_coco-split1.py')
    cfg.model.semi_train_cfg.gbt.rpn = 'fixed'
    with pytest.raises(ValueError, match='CISemiBaseDetector'):
        MODELS.build(cfg.model)
