"""CISoftTeacher: parity with mmdet's SoftTeacher, GbR branches, GbT filtering, CrS records."""
import copy

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmengine.structures import InstanceData

from mmssl.models.detectors import CISoftTeacher, GbRCrossEntropyLoss


def _batch(cfg):
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    return next(iter(loader))


def _loss(model, data, seed=0):
    torch.manual_seed(seed)
    data = model.data_preprocessor(copy.deepcopy(data), True)
    return model(**data, mode='loss')


def _low_thresholds(model_cfg):
    # a randomly initialised teacher scores ~1/7: low thresholds give real pseudo-labels
    model_cfg.semi_train_cfg.pseudo_label_initial_score_thr = 0.1
    model_cfg.semi_train_cfg.cls_pseudo_thr = 0.12
    model_cfg.semi_train_cfg.rpn_pseudo_thr = 0.12
    model_cfg.semi_train_cfg.reg_pseudo_thr = 1.0


def test_same_losses_as_mmdet_soft_teacher_when_method_is_off(tiny_cfg):
    cfg = tiny_cfg('synthetic/soft-teacher_r18-tiny_synthetic.py')
    init_default_scope('mmdet')
    _low_thresholds(cfg.model)
    ours = MODELS.build(cfg.model)
    assert isinstance(ours, CISoftTeacher) and not ours.gbr_loss.reweight
    ref_cfg = copy.deepcopy(cfg.model)
    ref_cfg.type = 'SoftTeacher'
    ref_cfg.semi_train_cfg.pop('gbt')
    ref_cfg.detector.roi_head.bbox_head.loss_cls = dict(
        type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)
    ref = MODELS.build(ref_cfg)
    missing = ref.load_state_dict(ours.state_dict(), strict=False)
    assert not missing.missing_keys
    ours.gbr_loss.grad_stats.num_updates.fill_(10**6)  # past warm-up: still no reweighting
    ours.gbt.num_updates.fill_(10**6)
    data = _batch(cfg)
    out_ours, out_ref = _loss(ours, data), _loss(ref, data)
    assert set(out_ours) == set(out_ref)
    for key in out_ref:
        assert torch.allclose(torch.as_tensor(out_ours[key]), torch.as_tensor(out_ref[key]),
                              atol=1e-5), key
    assert ours.gbt.last_pseudo_counts.sum() == 0  # counted at step time only
    assert ours.step_ci_statistics()['pseudo'].sum() > 0  # real pseudo-labels were kept


def test_gbr_branches_and_gbt_records(tiny_cfg):
    cfg = tiny_cfg('ci-ssod_soft-teacher_faster-rcnn_r50-caffe_fpn_180k_coco-split1.py')
    init_default_scope('mmdet')
    _low_thresholds(cfg.model)
    model = MODELS.build(cfg.model)
    gbr = model.gbr_loss
    assert isinstance(gbr, GbRCrossEntropyLoss) and gbr.branch_names == ['sup', 'unsup']
    seen = []
    gbr.register_forward_hook(lambda m, i, o: seen.append(m._branch))
    model.record_pseudo_labels = True
    model.gbt.num_updates.fill_(1)  # past the 1-iteration warm-up: records are kept
    _loss(model, _batch(cfg))
    # labeled R-CNN loss, unlabeled cls loss, then the regression pass with GbR off
    assert seen == [0, 1, None]
    sums, counts = gbr.grad_stats.reduce_pending()
    assert counts[0] > 0 and counts[1] > 0
    assert model.gbt._pending[1].sum() > 0  # teacher detections observed
    records = model.pop_pseudo_label_records()
    assert len(records) == 2 and model.pop_pseudo_label_records() == []
    for img_id, labels, margins in records:
        assert isinstance(img_id, int) and len(labels) == len(margins)
        assert (margins >= 0).all()


def test_class_wise_filtering_and_records():
    init_default_scope('mmdet')
    model = CISoftTeacher.__new__(CISoftTeacher)  # only the filtering logic is exercised
    torch.nn.Module.__init__(model)
    from mmssl.models.detectors import ClassWiseThresholds
    model.gbt = ClassWiseThresholds(3, warmup_iters=0)
    model.gbt.thresholds.copy_(torch.tensor([0.5, 0.7, 0.9]))
    model.gbt.num_updates.fill_(1)
    model.record_pseudo_labels = True
    model._pseudo_records = []
    model.analysis_records = None
    model.data_preprocessor = torch.nn.Module()
    model.data_preprocessor.device = torch.device('cpu')
    sample = DetDataSample(metainfo=dict(img_id=7))
    sample.gt_instances = InstanceData(
        bboxes=torch.rand(5, 4), labels=torch.tensor([0, 1, 1, 2, 2]),
        scores=torch.tensor([0.55, 0.65, 0.75, 0.95, 0.85]))
    empty = DetDataSample(metainfo=dict(img_id=8))
    empty.gt_instances = InstanceData(bboxes=torch.zeros(0, 4),
                                      labels=torch.zeros(0, dtype=torch.long),
                                      scores=torch.zeros(0))
    kept = CISoftTeacher.filter_by_class_thresholds(model, [sample, empty])
    assert kept[0].gt_instances.labels.tolist() == [0, 1, 2]
    assert len(sample.gt_instances) == 5  # the input samples are not modified
    img_id, labels, margins = model._pseudo_records[0]
    assert img_id == 7 and labels.tolist() == [0, 1, 2]
    assert margins.tolist() == pytest.approx([0.05, 0.05, 0.05], abs=1e-6)
    assert model._pseudo_records[1][0] == 8 and len(model._pseudo_records[1][1]) == 0
    assert model.gbt._pending[2].tolist() == [1.0, 1.0, 1.0]


def test_bad_gbt_config_raises(tiny_cfg):
    cfg = tiny_cfg('ci-ssod_soft-teacher_faster-rcnn_r50-caffe_fpn_180k_coco-split1.py')
    init_default_scope('mmdet')
    cfg.model.semi_train_cfg.gbt.alpha = 1.0
    with pytest.raises(ValueError, match="unknown keys \\['alpha'\\]"):
        MODELS.build(cfg.model)


def test_ci_semi_base_detector_branches_and_thresholds(tiny_cfg):
    cfg = tiny_cfg('ci-ssod_semi-base_faster-rcnn_r50-caffe_fpn_180k_coco-split1.py')
    init_default_scope('mmdet')
    cfg.model.semi_train_cfg.cls_pseudo_thr = 0.12
    cfg.model.semi_train_cfg.pseudo_label_initial_score_thr = 0.1
    model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'CISemiBaseDetector'
    seen = []
    model.gbr_loss.register_forward_hook(lambda m, i, o: seen.append(m._branch))
    model.gbt.num_updates.fill_(1)
    batch = _batch(cfg)
    # class-wise thresholds around the (random) teacher's median score
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    teacher_out, _ = model.get_pseudo_instances(data['inputs']['unsup_teacher'],
                                                data['data_samples']['unsup_teacher'])
    median = torch.cat([s.gt_instances.scores for s in teacher_out]).median()
    thr = median + torch.linspace(-0.01, 0.01, 6)
    model.gbt.thresholds.copy_(thr)
    model.gbt._pending.zero_()
    calls = []
    original = model.filter_by_class_thresholds

    def spy(samples):
        kept = original(samples)
        calls.append((samples, kept))
        return kept

    model.filter_by_class_thresholds = spy
    losses = _loss(model, batch)
    assert seen == [0, 1]  # labeled loss, then the pseudo-labeled student loss
    assert 'unsup_loss_cls' in losses and 'sup_loss_cls' in losses
    (given, kept), = calls
    n_in = sum(len(s.gt_instances) for s in given)
    n_out = sum(len(s.gt_instances) for s in kept)
    assert 0 < n_out < n_in
    for s in kept:
        assert (s.gt_instances.scores > thr[s.gt_instances.labels]).all()
    # exactly the pseudo-labels above their class threshold survive
    assert n_out == sum(int((s.gt_instances.scores > thr[s.gt_instances.labels]).sum())
                        for s in given)
    assert model.step_ci_statistics()['pseudo'].sum() == n_out


def test_rcnn_cls_loss_without_any_roi_is_zero(tiny_cfg):
    """No proposal and no kept pseudo-label in the batch: the box head returns no loss_cls
    (which mmdet's SoftTeacher indexes); ours returns a zero loss that back-propagates."""
    cfg = tiny_cfg('ci-ssod_soft-teacher_faster-rcnn_r50-caffe_fpn_180k_coco-split1.py')
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    x = tuple(torch.randn(2, 32, s, s, requires_grad=True) for s in (16, 8, 4, 2, 1))
    samples = []
    for i in range(2):
        sample = DetDataSample(metainfo=dict(img_id=i, homography_matrix=torch.eye(3).numpy()))
        sample.gt_instances = InstanceData(bboxes=torch.zeros(0, 4), scores=torch.zeros(0),
                                           labels=torch.zeros(0, dtype=torch.long))
        samples.append(sample)
    proposals = [InstanceData(bboxes=torch.zeros(0, 4), scores=torch.zeros(0))] * 2
    losses = model.rcnn_cls_loss_by_pseudo_instances(x, proposals, samples, batch_info={})
    assert list(losses) == ['loss_cls'] and float(losses['loss_cls']) == 0.0
    losses['loss_cls'].backward()
    assert x[0].grad is not None
