"""tools/train.py, --resume and tools/dist_train.sh as a user runs them (subprocesses)."""
import glob
import os
import subprocess
import sys

import torch

from mmssl_testing import load_tiny_pose_cfg


def _train(repo_root, cfg_path, work_dir, *extra, dist=0):
    env = dict(os.environ, PYTHONPATH=str(repo_root), PYTHON=sys.executable)
    if dist:
        cmd = ['bash', str(repo_root / 'tools/dist_train.sh'), cfg_path, str(dist)]
        env['PORT'] = str(29500 + os.getpid() % 1000)
    else:
        cmd = [sys.executable, str(repo_root / 'tools/train.py'), cfg_path]
    proc = subprocess.run(cmd + ['--work-dir', str(work_dir), *extra], cwd=repo_root, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def _weights(path):
    return torch.load(path, weights_only=True)['state_dict']


def test_resume_continues_at_right_iteration_with_same_state(repo_root, tmp_path):
    cfg = load_tiny_pose_cfg(tmp_path / 'unused')
    cfg_path = str(tmp_path / 'tiny.py')
    cfg.dump(cfg_path)
    straight = _train(repo_root, cfg_path, tmp_path / 'a', '--cfg-options',
                      'train_cfg.max_iters=4')
    assert 'Iter(train) [4/4]' in straight
    _train(repo_root, cfg_path, tmp_path / 'b', '--cfg-options', 'train_cfg.max_iters=2')
    resumed = _train(repo_root, cfg_path, tmp_path / 'b', '--resume', '--cfg-options',
                     'train_cfg.max_iters=4')
    assert 'resumed epoch: 0, iter: 2' in resumed
    assert 'Iter(train) [3/4]' in resumed and 'Iter(train) [1/4]' not in resumed
    a, b = _weights(tmp_path / 'a/iter_4.pth'), _weights(tmp_path / 'b/iter_4.pth')
    mid = _weights(tmp_path / 'b/iter_2.pth')
    for key in a:
        torch.testing.assert_close(a[key], b[key], msg=key)
    assert any(not torch.equal(a[k], mid[k]) for k in a)  # it did train after resuming
    opt_a = torch.load(tmp_path / 'a/iter_4.pth', weights_only=True)['optimizer']
    opt_b = torch.load(tmp_path / 'b/iter_4.pth', weights_only=True)['optimizer']
    for sa, sb in zip(opt_a['state'].values(), opt_b['state'].values()):
        torch.testing.assert_close(sa['exp_avg_sq'], sb['exp_avg_sq'])
        assert float(sa['step']) == float(sb['step']) == 4


def test_dist_train_two_processes_on_cpu(repo_root, tmp_path):
    cfg = load_tiny_pose_cfg(tmp_path / 'unused')
    cfg_path = str(tmp_path / 'tiny.py')
    cfg.dump(cfg_path)
    out = _train(repo_root, cfg_path, tmp_path / 'd', '--cfg-options',
                 'train_cfg.max_iters=2', dist=2)
    assert 'Distributed training: True' in out
    assert 'Iter(train) [2/2]' in out
    assert os.path.isfile(tmp_path / 'd/iter_2.pth')
    assert 'GPU number: 2' in out  # mmengine's world size line
    logs = glob.glob(str(tmp_path / 'd/*/*.log'))
    assert len(logs) == 1  # rank 0 logs
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(29700 + os.getpid() % 200))
    proc = subprocess.run(['bash', str(repo_root / 'tools/dist_test.sh'), cfg_path,
                           str(tmp_path / 'd/iter_2.pth'), '2', '--work-dir',
                           str(tmp_path / 't'), '--out', str(tmp_path / 'metrics.json')],
                          cwd=repo_root, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    import json
    metrics = json.load(open(tmp_path / 'metrics.json'))
    assert 'coco/AP' in metrics and 0 <= metrics['coco/AP'] <= 1
