"""CISoftTeacher / CISemiBaseDetector outputs on a fixed-seed batch, against a recording.

The detectors build on their mmdet parents' methods (``super()``), so a refactoring of how
they do so must not change what they compute. ``data/recorded_outputs.pt`` holds the
teacher's pseudo-instances, the losses, the GbT observations / kept-label counts, the CrS
records and the GbR gradient statistics of one batch of the tiny synthetic set (real tiny
Faster R-CNN, GbR reweighting and class-wise GbT thresholds active), recorded with the
implementation before the ``super()`` refactoring (the bodies copied from mmdet 3.3).

Re-record (only after checking that a change of the outputs is intended, e.g. an mmdet
upgrade): ``MMSSL_RECORD_CI_SSOD=1 pytest tests/test_ci_ssod/test_recorded_outputs.py``.
"""
import copy
import os
import os.path as osp

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, set_random_seed

RECORDING = osp.join(osp.dirname(__file__), 'data', 'recorded_outputs.pt')
RECORD = os.environ.get('MMSSL_RECORD_CI_SSOD') == '1'
CONFIGS = dict(
    soft_teacher='ci-ssod_soft-teacher_faster-rcnn_r50-caffe_fpn_180k_coco-split1.py',
    semi_base='ci-ssod_semi-base_faster-rcnn_r50-caffe_fpn_180k_coco-split1.py')
#: class-wise GbT thresholds inside the random teacher's score range (0.2-0.55): some kept, some not
THRESHOLDS = torch.tensor([0.3, 0.22, 0.25, 0.21, 0.24, 0.2])
CLASS_WEIGHTS = torch.tensor([0.6, 0.8, 1.0, 1.5, 2.0, 2.5, 0.6])


def _model_and_batch(tiny_cfg, name):
    cfg = tiny_cfg(CONFIGS[name])
    init_default_scope('mmdet')
    semi = cfg.model.semi_train_cfg
    semi.pseudo_label_initial_score_thr = 0.1
    semi.cls_pseudo_thr = 0.35  # the parent's filter would drop most
    semi.rpn_pseudo_thr = 0.12
    if 'reg_pseudo_thr' in semi:
        semi.reg_pseudo_thr = 1.0
    set_random_seed(0)
    model = MODELS.build(cfg.model)
    model.gbt.num_updates.fill_(10)  # past the GbT and GbR warm-ups
    model.gbt.thresholds.copy_(THRESHOLDS)
    gbr = model.gbr_loss
    gbr.grad_stats.num_updates.fill_(10)
    gbr.class_weights.copy_(CLASS_WEIGHTS)
    gbr.weight_norm.copy_(torch.tensor([1.1, 1.3]))
    model.record_pseudo_labels = True
    set_random_seed(0)
    batch = next(iter(Runner.build_dataloader(cfg.train_dataloader, seed=0)))
    return model, batch


def _outputs(model, batch):
    """Everything the refactored methods influence, as a flat dict of tensors."""
    torch.manual_seed(0)
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    inputs, samples = data['inputs'], data['data_samples']
    out = {}
    pseudo, _ = model.get_pseudo_instances(inputs['unsup_teacher'],
                                           copy.deepcopy(samples['unsup_teacher']))
    for i, s in enumerate(pseudo):
        for key, value in s.gt_instances.items():
            out[f'pseudo/{i}/{key}'] = value.detach().clone()
    out['gbt/observed'] = model.gbt._pending[:2].clone()
    model.gbt._pending.zero_()
    torch.manual_seed(0)
    losses = model(**model.data_preprocessor(copy.deepcopy(batch), True), mode='loss')
    for key, value in losses.items():
        out[f'loss/{key}'] = torch.as_tensor(value).detach().float().clone()
    out['gbt/pending'] = model.gbt._pending.clone()
    for i, (img_id, labels, margins) in enumerate(model.pop_pseudo_label_records()):
        out[f'records/{i}/img_id'] = torch.tensor(img_id)
        out[f'records/{i}/labels'] = torch.as_tensor(labels)
        out[f'records/{i}/margins'] = torch.as_tensor(margins)
    sums, counts = model.gbr_loss.grad_stats.reduce_pending()
    out['gbr/matrix_sums'], out['gbr/counts'] = sums, counts
    out['gbr/norm_pending'] = model.gbr_loss._norm_pending.clone()
    return out


@pytest.fixture
def one_thread():
    """The recording was made with one intra-op thread; threaded CPU reductions sum in
    another order (the RPN loss moves in the 4th digit), so compare at one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize('name', sorted(CONFIGS))
@pytest.mark.usefixtures('one_thread')
def test_outputs_match_the_recording(tiny_cfg, name):
    out = _outputs(*_model_and_batch(tiny_cfg, name))
    recorded = torch.load(RECORDING, weights_only=True) if osp.isfile(RECORDING) else {}
    if RECORD:
        recorded[name] = out
        os.makedirs(osp.dirname(RECORDING), exist_ok=True)
        torch.save(recorded, RECORDING)
        pytest.skip(f'recorded {name} to {RECORDING}')
    expected = recorded[name]
    assert sorted(out) == sorted(expected)
    # a non-trivial batch: pseudo-labels kept and dropped by the class-wise thresholds
    assert 0 < out['gbt/pending'][2].sum() < out['gbt/observed'][1].sum()
    for key, value in expected.items():
        assert out[key].shape == value.shape, key
        assert out[key].dtype == value.dtype, key
        torch.testing.assert_close(out[key], value, rtol=1e-4, atol=1e-5, msg=key)
