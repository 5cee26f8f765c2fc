"""CI-SSOD analysis (seed Figs. 1, 2, 4 and sampling histograms): matching rule, a real tiny
detector run with both hooks, and the plot tool on its logs."""
import glob
import importlib.util
import json
import os.path as osp

import pytest
import torch
from mmengine.runner import Runner

from mmssl.engine.hooks.ci_ssod_pseudo_quality_hook import (CISSODPseudoLabelQualityHook,
                                                            match_pseudo_labels)
from mmssl.engine.hooks.ci_ssod_sampling_histogram_hook import CISSODSamplingHistogramHook

CONFIG = 'ci-ssod_soft-teacher_faster-rcnn_r50-caffe_fpn_180k_coco-split1.py'
_spec = importlib.util.spec_from_file_location(
    'plot_ci_ssod_analysis', osp.join(osp.dirname(__file__), '..', '..', 'tools', 'analysis',
                                      'plot_ci_ssod_analysis.py'))
plot_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(plot_tool)


def test_match_pseudo_labels_by_class_and_iou():
    gt = torch.tensor([[0., 0., 10., 10.], [20., 20., 30., 30.]])
    gt_labels = torch.tensor([0, 1])
    boxes = torch.tensor([[0., 0., 10., 11.],  # class 0, IoU 0.91: correct
                          [20., 20., 30., 30.],  # right box, wrong class
                          [0., 0., 4., 4.]])  # class 0, IoU 0.16: wrong
    correct, recalled = match_pseudo_labels(boxes, torch.tensor([0, 0, 0]), gt, gt_labels)
    assert correct.tolist() == [True, False, False]
    assert recalled.tolist() == [True, False]
    c, r = match_pseudo_labels(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long), gt,
                               gt_labels)
    assert len(c) == 0 and r.tolist() == [False, False]


def _scalars(work_dir):
    path = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))[0]
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_analysis_hooks_on_a_real_run(tiny_cfg, tmp_path):
    cfg = tiny_cfg(CONFIG)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.test_cfg = cfg.test_dataloader = cfg.test_evaluator = None
    semi = cfg.model.semi_train_cfg  # a random teacher scores ~1/7: real pseudo-labels
    semi.pseudo_label_initial_score_thr = 0.1
    semi.cls_pseudo_thr = semi.rpn_pseudo_thr = 0.12
    semi.reg_pseudo_thr = 1.0
    cfg.train_cfg.max_iters = 3
    minority = cfg.custom_hooks[1].minority_classes
    cfg.custom_hooks += [
        dict(type='CISSODPseudoLabelQualityHook', interval=1, iou_thr=0.3,
             minority_classes=minority),
        dict(type='CISSODSamplingHistogramHook', interval=1, minority_classes=minority)]
    # mmdet's visualizer is a named global instance: a name of its own keeps this run's
    # scalars out of later tests' runners (which would otherwise reuse its save_dir)
    cfg.visualizer.name = f'ci_ssod_analysis_{tmp_path.name}'
    runner = Runner.from_cfg(cfg)
    seen = []  # unlabeled / labeled image ids each iteration, from the batches
    original = runner.train_loop.run_iter

    def spy(data_batch):
        seen.append({k: [s.img_id for s in v if s is not None]
                     for k, v in data_batch['data_samples'].items()})
        return original(data_batch)

    runner.train_loop.run_iter = spy
    runner.train()
    quality = next(h for h in runner.hooks if isinstance(h, CISSODPseudoLabelQualityHook))
    sampling = next(h for h in runner.hooks if isinstance(h, CISSODSamplingHistogramHook))
    names = quality.class_names
    lines = _scalars(cfg.work_dir)
    last = {}
    for line in lines:
        last.update(line)
    # recall's denominator: every ground-truth instance of the drawn unlabeled images
    gt_total = sum(len(quality.ground_truth(i)[1]) for it in seen for i in it['unsup_student'])
    assert gt_total > 0
    assert sum(last[f'ci_ssod_analysis/num_gt/{c}'] for c in names) == gt_total
    kept = sum(last[f'ci_ssod_analysis/num_pseudo/{c}'] for c in names)
    assert kept > 0  # the detector kept pseudo-labels and they were checked
    assert kept == pytest.approx(float(quality.totals[0].sum()))
    for c in names:
        for stat in ('precision', 'recall', 'mean_score'):
            v = last[f'ci_ssod_analysis/{stat}/{c}']
            assert v != v or 0.0 <= v <= 1.0  # NaN when the class has no boxes
        assert last[f'ci_ssod_analysis/num_correct/{c}'] <= \
            last[f'ci_ssod_analysis/num_pseudo/{c}']
    assert sum(last[f'ci_ssod_analysis/num_det/{c}'] for c in names) > 0
    # sampled instances: the ground truth of the drawn images, per source
    lab_matrix, lab_index = sampling._matrices['labeled']
    expected = sum(lab_matrix[lab_index[i]].sum() for it in seen for i in it['sup'])
    assert sum(last[f'ci_ssod_sampling/labeled/{c}'] for c in names) == expected
    assert last['ci_ssod_sampling/labeled_images'] == sum(len(it['sup']) for it in seen)
    assert last['ci_ssod_sampling/unlabeled_images'] == \
        sum(len(it['unsup_teacher']) for it in seen)
    hub = runner.message_hub
    assert 'train/pl/recall_min' in hub.log_scalars or 'train/pl/recall_maj' in hub.log_scalars
    assert 'train/sampling/min_share_labeled' in hub.log_scalars

    out = tmp_path / 'analysis.png'
    summary = tmp_path / 'analysis.json'
    plot_tool.main([cfg.work_dir, cfg.work_dir, '--labels', 'A', 'B', '--minority', *minority,
                    '--out', str(out), '--json', str(summary)])
    assert out.is_file() and out.stat().st_size > 0
    panels = json.loads(summary.read_text())['panels']
    assert len(panels) == 5
    shares = panels['(d) sampled labeled instances (share)']['A']
    assert sum(shares) == pytest.approx(1.0)


def test_quality_hook_needs_a_ci_detector():
    from types import SimpleNamespace
    runner = SimpleNamespace(model=torch.nn.Linear(1, 1), train_dataloader=None)
    with pytest.raises(TypeError, match='needs a CI-SSOD teacher-student detector'):
        CISSODPseudoLabelQualityHook(interval=1).before_train(runner)
    with pytest.raises(ValueError, match='interval >= 1'):
        CISSODPseudoLabelQualityHook(interval=0)


def test_pseudo_boxes_are_mapped_back_to_the_original_image():
    import numpy as np
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData

    from mmssl.models.detectors import CIPseudoLabelMixin
    # student view = original flipped horizontally (width 100) and scaled 2x
    matrix = np.array([[-2., 0., 200.], [0., 2., 0.], [0., 0., 1.]], dtype=np.float32)
    sample = DetDataSample(metainfo=dict(homography_matrix=matrix, ori_shape=(50, 100)))
    sample.gt_instances = InstanceData(bboxes=torch.tensor([[20., 10., 60., 50.]]))
    boxes = CIPseudoLabelMixin.boxes_in_original_image(sample)
    assert torch.allclose(boxes, torch.tensor([[70., 5., 90., 25.]]))
