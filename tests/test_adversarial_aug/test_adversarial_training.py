"""The three stages through mmengine's Runner (single process and DDP on CPU), resume of
both networks and both optimizers, the distribution hook and the Figure-5 plot tool."""
import glob
import importlib.util
import json
import os
import subprocess
import sys

import torch
from mmengine.runner import Runner

from adv_helpers import REPO_ROOT, synthetic_cfg


def _state(path):
    return torch.load(path, weights_only=True)


def test_joint_training_logs_distributions_and_plots(synthetic_body, tmp_path):
    cfg = synthetic_cfg('3-asr-aho', synthetic_body, tmp_path / 'joint')
    runner = Runner.from_cfg(cfg)
    runner.train()
    from mmssl.models.augmenters import JointOptimWrapperDict
    assert isinstance(runner.optim_wrapper, JointOptimWrapperDict)
    hub = runner.message_hub.log_scalars
    for key in ('loss_kpt', 'loss_asr', 'loss_aho', 'asr_harder', 'aho_harder', 'pose.lr',
                'augmenter.lr'):
        assert f'train/{key}' in hub, key
    assert hub['train/pose.lr'].current() == 1e-3 and hub['train/augmenter.lr'].current() == 2e-4
    run = glob.glob(str(tmp_path / 'joint' / '*' / 'vis_data' / 'scalars.json'))
    records = [json.loads(line) for line in open(run[0])]
    adv = [r for r in records if 'adv/pred_rotation_0' in r]
    assert [r['step'] for r in adv] == [1, 2]
    for rec in adv:
        pred = [rec[f'adv/pred_rotation_{j}'] for j in range(9)]
        loss = [rec[f'adv/loss_scale_{i}'] for i in range(7)]
        assert abs(sum(pred) - 1) < 1e-4 and abs(sum(loss) - 1) < 1e-4
        assert 'adv/track_kl_rotation' in rec and 'adv/pred_occlusion_15' in rec
    spec = importlib.util.spec_from_file_location(
        'plot_adversarial', REPO_ROOT / 'tools/analysis/plot_adversarial.py')
    plot_tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plot_tool)
    out = tmp_path / 'fig5.png'
    plot_tool.plot(str(tmp_path / 'joint'), None, str(out), ['rotation', 'scale'], 5)
    assert out.stat().st_size > 10000
    metrics = runner.val_loop.run()
    assert 'PCK' in metrics


def test_resume_restores_g_d_and_both_optimizers(synthetic_body, tmp_path):
    def cfg(work, iters, resume=False):
        c = synthetic_cfg('3-asr-aho', synthetic_body, tmp_path / work, iters=iters)
        c.custom_hooks, c.resume = [], resume
        return c
    Runner.from_cfg(cfg('a', 2)).train()  # uninterrupted
    Runner.from_cfg(cfg('b', 1)).train()  # stopped after one iteration ...
    Runner.from_cfg(cfg('b', 2, resume=True)).train()  # ... and resumed
    a, b = _state(tmp_path / 'a/iter_2.pth'), _state(tmp_path / 'b/iter_2.pth')
    mid = _state(tmp_path / 'b/iter_1.pth')
    keys = a['state_dict'].keys()
    assert any(k.startswith('augmenter.') for k in keys) and any(k.startswith('pose.')
                                                                  for k in keys)
    for key in keys:  # G and D continue exactly as in the uninterrupted run
        torch.testing.assert_close(a['state_dict'][key], b['state_dict'][key], msg=key)
    assert any(not torch.equal(b['state_dict'][k], mid['state_dict'][k]) for k in keys
               if k.startswith('augmenter.'))
    assert set(a['optimizer']) == set(b['optimizer']) == {'pose', 'augmenter'}
    for name in ('pose', 'augmenter'):  # a fresh optimizer would be at step 1 here
        state_a, state_b = a['optimizer'][name]['state'], b['optimizer'][name]['state']
        assert len(state_a) == len(state_b) > 0
        for k, v in state_a.items():
            assert float(state_b[k]['step']) == float(v['step']) == 2
            torch.testing.assert_close(state_b[k]['square_avg'], v['square_avg'])
    assert b['meta']['iter'] == 2


def test_stage2_loads_stage1_and_keeps_d_frozen(synthetic_body, tmp_path):
    s1 = synthetic_cfg('1-pose', synthetic_body, tmp_path / 's1', iters=1)
    s1.custom_hooks = []
    Runner.from_cfg(s1).train()
    c1 = _state(tmp_path / 's1/iter_1.pth')['state_dict']
    assert set(_state(tmp_path / 's1/iter_1.pth')['optimizer']) == {'pose'}
    s2 = synthetic_cfg('2-augmenter', synthetic_body, tmp_path / 's2', iters=1)
    s2.load_from = str(tmp_path / 's1/iter_1.pth')
    Runner.from_cfg(s2).train()
    c2 = _state(tmp_path / 's2/iter_1.pth')['state_dict']
    for key in c1:
        if key.startswith('pose.') and 'running' not in key and 'num_batches' not in key:
            torch.testing.assert_close(c2[key], c1[key], msg=key)  # D frozen in stage 2
        if key.startswith('pose.') and 'running_mean' in key:
            torch.testing.assert_close(c2[key], c1[key], msg=key)  # and in eval mode
    assert any(not torch.equal(c2[k], c1[k]) for k in c1 if k.startswith('augmenter.'))
    assert float(c2['aho_votes'].sum()) > 0


def test_dist_train_joint_stage_two_processes(synthetic_body, tmp_path):
    cfg = synthetic_cfg('3-asr-aho', synthetic_body, tmp_path / 'd', batch_size=3)
    cfg_path = str(tmp_path / 'joint.py')
    cfg.dump(cfg_path)
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(29700 + os.getpid() % 250))
    proc = subprocess.run(['bash', str(REPO_ROOT / 'tools/dist_train.sh'), cfg_path, '2',
                           '--work-dir', str(tmp_path / 'd')], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=400)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert 'Distributed training: True' in out and 'Iter(train) [2/2]' in out
    assert 'loss_asr' in out and 'loss_aho' in out
    ckpt = _state(tmp_path / 'd/iter_2.pth')
    assert set(ckpt['optimizer']) == {'pose', 'augmenter'}


def test_dist_train_augmenter_pretraining_two_processes(synthetic_body, tmp_path):
    """Stage 2 (G pre-training against the frozen pose network) under 2-process DDP."""
    s1 = synthetic_cfg('1-pose', synthetic_body, tmp_path / 's1', iters=1)
    s1.custom_hooks = []
    Runner.from_cfg(s1).train()
    c1 = _state(tmp_path / 's1/iter_1.pth')['state_dict']
    s2 = synthetic_cfg('2-augmenter', synthetic_body, tmp_path / 's2', batch_size=3)
    s2.load_from = str(tmp_path / 's1/iter_1.pth')
    cfg_path = str(tmp_path / 'stage2.py')
    s2.dump(cfg_path)
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(29450 + os.getpid() % 250))
    proc = subprocess.run(['bash', str(REPO_ROOT / 'tools/dist_train.sh'), cfg_path, '2',
                           '--work-dir', str(tmp_path / 's2')], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=400)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert 'Distributed training: True' in out and 'Iter(train) [2/2]' in out
    c2 = _state(tmp_path / 's2/iter_2.pth')
    assert set(c2['optimizer']) == {'augmenter'}
    for key in c1:
        if key.startswith('pose.') and 'running' not in key and 'num_batches' not in key:
            torch.testing.assert_close(c2['state_dict'][key], c1[key], msg=key)
    assert any(not torch.equal(c2['state_dict'][k], c1[k]) for k in c1
               if k.startswith('augmenter.'))
    assert float(c2['state_dict']['aho_votes'].sum()) > 0
