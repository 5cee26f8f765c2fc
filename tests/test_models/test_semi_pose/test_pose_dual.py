"""PoseDual/PoseCons end to end on real mmpose estimators, datasets and runners (CPU)."""
import copy
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from mmssl_testing import load_semi_pose_cfg

DUAL = 'posedual/synthetic/posedual_res18-w32_synthetic-body-first100-128x96.py'
CONS = 'posedual/synthetic/posecons-same_res18-w32_synthetic-body-first100-128x96.py'


def _iter_cfg(cfg, iters, unsup_start=0):
    cfg.model.unsup_start_iter = unsup_start
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=10**6)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=2, by_epoch=False)
    return cfg


def test_loss_decreases_and_branches_reach_the_model(synthetic_body, tmp_path, repo_root):
    cfg = _iter_cfg(load_semi_pose_cfg(DUAL, synthetic_body, tmp_path), 2)
    monitor = [h for h in cfg.custom_hooks if h.type == 'CollapseMonitorHook'][0]
    monitor.update(interval=1, collapse_ratio=10.)  # any response counts as a collapse
    runner = Runner.from_cfg(cfg)
    runner.train()  # 2 real iterations through the runner, then overfit one fixed batch
    # the collapse monitor wrote response/<net> to the visualizer backends and flagged
    hook = [h for h in runner.hooks if type(h).__name__ == 'CollapseMonitorHook'][0]
    assert hook.warned == {'response/net1', 'response/net2'}
    scalars_file = runner.visualizer.get_backend('LocalVisBackend')._scalar_save_file
    scalars = open(scalars_file).read()
    assert '"response/net1"' in scalars and '"response/net2"' in scalars
    plot = subprocess.run([sys.executable, str(repo_root / 'tools/analysis/plot_response.py'),
                           scalars_file, '--out', str(tmp_path / 'response.png')],
                          capture_output=True, text=True)
    assert plot.returncode == 0, plot.stderr
    assert os.path.getsize(tmp_path / 'response.png') > 10_000
    hub = runner.message_hub.log_scalars
    for key in ('sup_net1_loss_kpt', 'sup_net2_loss_kpt', 'unsup_net1_loss', 'unsup_net2_loss',
                'response_net1', 'response_net2'):
        assert f'train/{key}' in hub, key
    batch = next(iter(runner.train_dataloader))
    model, optim = runner.model, runner.optim_wrapper
    optim.optimizer.param_groups[0]['lr'] = 1e-2
    losses = []
    for _ in range(20):
        torch.manual_seed(0)  # the same hard views every step
        log = model.train_step(batch, optim)
        losses.append(float(log['loss']))
    # heatmap MSE leaves its initial plateau slowly; deterministic (fixed batch and seed)
    assert losses[-1] < 0.96 * losses[0], losses
    # the two networks started from different random weights and stay different
    assert not torch.allclose(model.net1.backbone.conv1.weight,
                              model.net2.backbone.conv1.weight)
    metrics = runner.val_loop.run()
    assert {'net1/coco/AP', 'net2/coco/AP', 'ensemble/coco/AP', 'coco/AP'} <= set(metrics)
    assert metrics['coco/AP'] == metrics['ensemble/coco/AP']


def test_train_step_backward_per_term_equals_the_summed_loss_step(synthetic_body, tmp_path):
    """train_step back-propagates one loss term at a time; the update must be the one of the
    summed loss that mmengine's default wrapper back-propagates (same params, same BN)."""
    cfg = _iter_cfg(load_semi_pose_cfg(DUAL, synthetic_body, tmp_path), 1)
    cfg.model.joint_cutout = dict()  # every part of the hard view in play
    cfg.optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.5, momentum=0.9))
    runner = Runner.from_cfg(cfg)
    batch = next(iter(runner.train_dataloader))
    per_term, summed = runner.model, copy.deepcopy(runner.model)
    initial = per_term.net1.head.final_layer.weight.detach().clone()
    optim_a = build_optim_wrapper(per_term, cfg.optim_wrapper)
    optim_b = build_optim_wrapper(summed, cfg.optim_wrapper)
    for _ in range(2):
        torch.manual_seed(0)
        log_a = per_term.train_step(batch, optim_a)
        torch.manual_seed(0)
        data = summed.data_preprocessor(batch, True)
        losses = summed(**data, mode='loss')
        loss, log_b = summed.parse_losses(losses)
        optim_b.update_params(loss)
        assert set(log_a) == set(log_b)
        for key in log_a:
            torch.testing.assert_close(log_a[key], log_b[key], rtol=1e-5, atol=1e-7)
    state_b = summed.state_dict()
    for key, value in per_term.state_dict().items():  # parameters and BN running stats
        torch.testing.assert_close(value, state_b[key], rtol=1e-4, atol=1e-6,
                                   msg=lambda m: f'{key}: {m}')
    assert optim_a._inner_count == optim_b._inner_count == 2
    # and the parameters did move (a no-op step would also be 'equal')
    assert (per_term.net1.head.final_layer.weight - initial).abs().max() > 1e-3


def test_unsup_start_iter_keeps_consistency_off(synthetic_body, tmp_path):
    cfg = _iter_cfg(load_semi_pose_cfg(DUAL, synthetic_body, tmp_path), 2, unsup_start=5)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert 'train/unsup_net1_loss' not in runner.message_hub.log_scalars


def test_resume_restores_both_networks_and_optimizer(synthetic_body, tmp_path):
    cfg = _iter_cfg(load_semi_pose_cfg(DUAL, synthetic_body, tmp_path), 2)
    Runner.from_cfg(cfg).train()
    ckpt = torch.load(tmp_path / 'iter_2.pth', weights_only=True)
    cfg = _iter_cfg(load_semi_pose_cfg(DUAL, synthetic_body, tmp_path), 3)
    cfg.resume = True
    runner = Runner.from_cfg(cfg)
    runner.load_or_resume()
    assert runner.iter == 2
    state = runner.model.state_dict()
    for key in ('net1.backbone.conv1.weight', 'net2.head.final_layer.weight'):
        torch.testing.assert_close(state[key], ckpt['state_dict'][key])
    opt = runner.optim_wrapper.optimizer.state_dict()['state']
    assert len(opt) == len(ckpt['optimizer']['state']) > 0
    for k, v in ckpt['optimizer']['state'].items():
        torch.testing.assert_close(opt[k]['exp_avg'], v['exp_avg'])
    runner.train()
    assert runner.iter == 3


def test_epoch_based_training_uses_the_mixed_sampler_epoch(synthetic_body, tmp_path):
    from mmssl.datasets import num_batches_per_epoch
    cfg = load_semi_pose_cfg(DUAL, synthetic_body, tmp_path)
    cfg.model.unsup_start_iter = 0
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1, val_interval=10)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True)]
    runner = Runner.from_cfg(cfg)
    runner.train()
    sizes = [len(d) for d in runner.train_dataloader.dataset.datasets]
    # an epoch = the larger source once: the unlabeled boxes at 2 per batch
    assert runner.iter == num_batches_per_epoch(sizes, [2, 2]) == sizes[1] // 2
    assert runner.epoch == 1


def test_posecons_same_distribution_trains(synthetic_body, tmp_path):
    cfg = _iter_cfg(load_semi_pose_cfg(CONS, synthetic_body, tmp_path), 2)
    runner = Runner.from_cfg(cfg)
    runner.train()
    hub = runner.message_hub.log_scalars
    assert 'train/unsup_net1_loss' in hub and 'train/sup_net2_loss_kpt' not in hub
    assert runner.model.teacher_view == 'same'


def test_dist_train_and_export_to_plain_mmpose(synthetic_body, tmp_path, repo_root):
    cfg = _iter_cfg(load_semi_pose_cfg(DUAL, synthetic_body, tmp_path / 'd'), 2)
    cfg_path = str(tmp_path / 'dual.py')
    cfg.dump(cfg_path)
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(29600 + os.getpid() % 300))
    proc = subprocess.run(['bash', str(repo_root / 'tools/dist_train.sh'), cfg_path, '2',
                           '--work-dir', str(tmp_path / 'd')], cwd=repo_root, env=env,
                          capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'Distributed training: True' in proc.stdout + proc.stderr
    out = subprocess.run([sys.executable, str(repo_root / 'tools/misc/extract_submodel.py'),
                          cfg_path, str(tmp_path / 'd/iter_2.pth'), '--module', 'net2',
                          '--out', str(tmp_path / 'net2')], cwd=repo_root,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    from mmpose.apis import inference_topdown, init_model
    model = init_model(str(tmp_path / 'net2.py'), str(tmp_path / 'net2.pth'), device='cpu')
    ckpt = torch.load(tmp_path / 'd/iter_2.pth', weights_only=True)['state_dict']
    torch.testing.assert_close(model.head.final_layer.weight,
                               ckpt['net2.head.final_layer.weight'])
    img = str(synthetic_body / 'images/val/000001.jpg')
    result = inference_topdown(model, img, bboxes=[[10, 10, 120, 150]])
    assert result[0].pred_instances.keypoints.shape == (1, 17, 2)


def test_ddp_wraps_each_network_and_keeps_ranks_in_sync(synthetic_body, tmp_path, repo_root):
    """Under the configs' MMSeparateDistributedDataParallel each network has its own DDP and
    train_step syncs gradients: two ranks on different data end with identical weights."""
    cfg = _iter_cfg(load_semi_pose_cfg(DUAL, synthetic_body, tmp_path / 'w'), 3)
    cfg.default_hooks.checkpoint.interval = 10
    cfg.randomness = dict(seed=1234)  # mmengine's default: one seed for every rank
    cfg_path = str(tmp_path / 'dual.py')
    cfg.dump(cfg_path)
    probe = str(repo_root / 'tests/test_models/test_semi_pose/dist_sync_probe.py')
    env = dict(os.environ, OMP_NUM_THREADS='1',
               PYTHONPATH=f'{repo_root}:{os.environ.get("PYTHONPATH", "")}')
    proc = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
                           f'--master_port={29900 + os.getpid() % 90}', probe, cfg_path,
                           str(tmp_path / 'ranks.json')], cwd=repo_root, env=env,
                          capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = json.load(open(tmp_path / 'ranks.json'))
    assert len(ranks) == 2
    for state in ranks:
        assert state['wrapper'] == 'MMSeparateDistributedDataParallel'
        assert state['nets'] == ['MMDistributedDataParallel'] * 2
        assert state['iter'] == 3
    assert ranks[0]['checksums'] == ranks[1]['checksums']
    assert ranks[0]['checksums'][0] != ranks[0]['checksums'][1]
    # the batch-tensor augmentation differs between ranks (one seed synced across ranks)...
    assert ranks[0]['seed'] == ranks[1]['seed'] == 1234
    assert ranks[0]['hard_views'][0] != ranks[1]['hard_views'][0]
    # ... and repeats for the same step: within a run, and in a rerun with the same seed
    # (this process is rank 0 of a single-process rerun)
    for state in ranks:
        assert state['hard_views'][0] == state['hard_views'][1]
    sys.path.insert(0, str(repo_root / 'tests/test_models/test_semi_pose'))
    from dist_sync_probe import hard_view_checksums
    from mmssl.models.semi_pose import PoseDual  # noqa: F401
    from mmpose.registry import MODELS
    init_default_scope('mmpose')
    torch.manual_seed(1234)
    model = MODELS.build(cfg.model)
    assert hard_view_checksums(model) == pytest.approx(ranks[0]['hard_views'][0], rel=1e-9)


def test_bad_configurations_are_refused():
    from mmssl.models.semi_pose import PoseDual
    init_default_scope('mmpose')
    est = dict(type='TopdownPoseEstimator',
               backbone=dict(type='ResNet', depth=18, base_channels=8, stem_channels=8),
               head=dict(type='HeatmapHead', in_channels=64, out_channels=17,
                         deconv_out_channels=None,
                         decoder=dict(type='MSRAHeatmap', input_size=(64, 64),
                                      heatmap_size=(2, 2), sigma=1)))
    with pytest.raises(ValueError, match="predict_on must be one of .*'best'"):
        PoseDual(est, predict_on='best')
    # a regression head is trained through its codec (test_pose_dual_any_head.py), but not
    # next to a heatmap network
    reg = dict(est, head=dict(type='RegressionHead', in_channels=64, num_joints=17,
                              decoder=dict(type='RegressionLabel', input_size=(64, 64))),
               neck=dict(type='GlobalAveragePooling'))
    with pytest.raises(TypeError, match='must both have heatmap heads or both other heads'):
        PoseDual(est, estimator2=reg)


def test_estimator2_with_another_heatmap_grid_is_refused():
    from mmssl.models.semi_pose import PoseDual
    init_default_scope('mmpose')
    est = dict(type='TopdownPoseEstimator',
               backbone=dict(type='ResNet', depth=18, base_channels=8, stem_channels=8),
               head=dict(type='HeatmapHead', in_channels=64, out_channels=17,
                         deconv_out_channels=(8, ), deconv_kernel_sizes=(4, ),
                         decoder=dict(type='MSRAHeatmap', input_size=(64, 64),
                                      heatmap_size=(4, 4), sigma=1)))
    other = copy.deepcopy(est)
    other['head']['deconv_out_channels'] = (8, 8)
    other['head']['deconv_kernel_sizes'] = (4, 4)
    other['head']['decoder']['heatmap_size'] = (8, 8)
    with pytest.raises(ValueError, match=r'net1 has \(\(64, 64\), \(4, 4\)\), net2 has '
                       r'\(\(64, 64\), \(8, 8\)\)'):
        PoseDual(est, estimator2=other)
    PoseDual(est, estimator2=copy.deepcopy(est))  # the same grid is fine


@pytest.mark.parametrize('flip_test', [False, True])
def test_validation_runs_the_data_once_for_all_modes(synthetic_body, tmp_path, flip_test):
    """One pass of MultiModelValLoop gives the metrics of three separate passes."""
    cfg = _iter_cfg(load_semi_pose_cfg(DUAL, synthetic_body, tmp_path), 1)
    cfg.model.estimator.test_cfg = dict(flip_test=flip_test)
    runner = Runner.from_cfg(cfg)
    runner.train()
    model = runner.model
    assert not torch.allclose(model.net1.backbone.conv1.weight,
                              model.net2.backbone.conv1.weight)
    calls = {'net1': 0, 'net2': 0}
    handles = [getattr(model, n).backbone.register_forward_hook(
        lambda *_, n=n: calls.__setitem__(n, calls[n] + 1)) for n in calls]
    metrics = runner.val_loop.run()
    for h in handles:
        h.remove()
    batches = len(runner.val_loop.dataloader)
    assert calls == {'net1': batches * (2 if flip_test else 1),
                     'net2': batches * (2 if flip_test else 1)}
    reference = {}
    for mode in ('net1', 'net2', 'ensemble'):  # the old way: one pass per mode
        model.predict_on = mode
        evaluator = copy.deepcopy(runner.val_loop.evaluator)
        for batch in runner.val_loop.dataloader:
            with torch.no_grad():
                evaluator.process(data_samples=model.val_step(batch), data_batch=batch)
        reference.update({f'{mode}/{k}': v for k, v in
                          evaluator.evaluate(len(runner.val_loop.dataloader.dataset)).items()})
    model.predict_on = 'ensemble'
    assert {k: metrics[k] for k in reference} == reference
    assert metrics['coco/AP'] == metrics['ensemble/coco/AP']
    # the two networks predict differently (their metrics may tie after one iteration)
    data = model.data_preprocessor(next(iter(runner.val_loop.dataloader)), False)
    with torch.no_grad():
        out = model.predict_modes_at_once(data['inputs'], data['data_samples'],
                                          ['net1', 'net2'])
    kpts = {n: torch.as_tensor(np.stack([s.pred_instances.keypoints for s in out[n]]))
            for n in ('net1', 'net2')}
    assert not torch.allclose(kpts['net1'], kpts['net2'])
