"""tools/slurm_train.sh and tools/slurm_test.sh under a stand-in ``srun`` (CPU, gloo).

The stand-in (fake_srun.py) starts ``--ntasks`` copies of the command on this machine with
the variables Slurm's ``srun`` sets, so the real scripts, tools/train.py / tools/test.py and
``--launcher slurm`` (mmssl/engine/distributed.py) run as on a cluster.
"""
import json
import os
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from mmssl.engine.distributed import (first_slurm_host, prepare_cpu_distributed,
                                      slurm_dist_env)
from fake_srun import write_fake_srun
from mmssl_testing import load_tiny_pose_cfg


@pytest.fixture
def fake_srun(tmp_path):
    """A ``srun`` on PATH that records its calls in ``srun_calls.jsonl``."""
    return write_fake_srun(tmp_path)


def _run_script(repo_root, bin_dir, script, *args):
    env = {k: v for k, v in os.environ.items()
           if k not in ('MASTER_ADDR', 'RANK', 'WORLD_SIZE', 'LOCAL_RANK')
           and not k.startswith('SLURM_')}
    env.update(PATH=f'{bin_dir}{os.pathsep}{env["PATH"]}', PYTHON=sys.executable,
               GPUS='2', GPUS_PER_NODE='2', CPUS_PER_TASK='1', OMP_NUM_THREADS='1',
               PORT=str(21000 + os.getpid() % 5000))
    proc = subprocess.run(['bash', str(repo_root / 'tools' / script), *args], cwd=repo_root,
                          env=env, capture_output=True, text=True, timeout=240)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    return out


def test_slurm_train_then_test_two_tasks_on_cpu(repo_root, tmp_path, fake_srun):
    bin_dir, log = fake_srun
    cfg = load_tiny_pose_cfg(tmp_path / 'unused')
    cfg_path = str(tmp_path / 'tiny.py')
    cfg.dump(cfg_path)
    work = tmp_path / 'work'
    out = _run_script(repo_root, bin_dir, 'slurm_train.sh', 'cpu_part', 'tiny_job', cfg_path,
                      str(work), '--cfg-options', 'train_cfg.max_iters=2')
    assert 'Distributed launcher: slurm' in out
    assert 'GPU number: 2' in out  # mmengine's world-size line: both tasks joined
    assert 'Iter(train) [2/2]' in out
    assert (work / 'iter_2.pth').is_file()

    calls = [json.loads(line) for line in log.read_text().splitlines()]
    opts, cmd = calls[0]['opts'], calls[0]['cmd']
    assert opts['-p'] == 'cpu_part' and opts['--job-name'] == 'tiny_job'
    assert opts['--ntasks'] == '2' and opts['--ntasks-per-node'] == '2'
    assert opts['--gres'] == 'gpu:2' and opts['--cpus-per-task'] == '1'
    assert cmd[-3:] == ['--launcher=slurm', '--cfg-options', 'train_cfg.max_iters=2']
    assert cmd[2].endswith('tools/train.py') and f'--work-dir={work}' in cmd
    assert calls[1]['exit_codes'] == [0, 0]

    metrics_file = tmp_path / 'metrics.json'
    out = _run_script(repo_root, bin_dir, 'slurm_test.sh', 'cpu_part', 'tiny_test', cfg_path,
                      str(work / 'iter_2.pth'), '--work-dir', str(tmp_path / 'test'),
                      '--out', str(metrics_file))
    assert 'GPU number: 2' in out
    assert 'coco/AP:' in out  # the metrics the test run prints
    metrics = json.loads(metrics_file.read_text())
    assert 0 <= metrics['coco/AP'] <= 1
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert calls[2]['cmd'][2].endswith('tools/test.py')
    assert calls[2]['cmd'][3:5] == [cfg_path, str(work / 'iter_2.pth')]
    assert calls[3]['exit_codes'] == [0, 0]


def test_slurm_train_without_gres_on_cpu_partition(repo_root, tmp_path, fake_srun):
    """``GRES=`` (empty) asks for no GPUs; the script still passes the task layout."""
    bin_dir, log = fake_srun
    env = dict(os.environ, PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}', GRES='',
               GPUS='3', GPUS_PER_NODE='3', PYTHON='true')  # `true`: no training
    subprocess.run(['bash', str(repo_root / 'tools/slurm_train.sh'), 'p', 'j', 'c.py', 'w',
                    '--cfg-options', 'a=1 2'], env=env, check=True, capture_output=True,
                   timeout=60)
    call = json.loads(log.read_text().splitlines()[0])
    assert '--gres' not in call['opts'] and call['opts']['--ntasks'] == '3'
    assert call['cmd'][0] == 'true' and call['cmd'][-2:] == ['--cfg-options', 'a=1 2']


@pytest.mark.parametrize('nodelist,host', [
    ('localhost', 'localhost'), ('node01,node02', 'node01'), ('gpu[03-05,9],cpu1', 'gpu03'),
    ('rack[1-2]-n[07,09]', 'rack1-n07'), ('x-[010-012]', 'x-010')])
def test_first_slurm_host(nodelist, host):
    assert first_slurm_host(nodelist) == host


def test_slurm_dist_env_follows_mmengine(monkeypatch):
    for key in ('MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv('SLURM_PROCID', '5')
    monkeypatch.setenv('SLURM_LOCALID', '1')
    monkeypatch.setenv('SLURM_NTASKS', '8')
    monkeypatch.setenv('SLURM_NODELIST', 'gpu[03-06]')
    assert slurm_dist_env() == dict(RANK='5', WORLD_SIZE='8', LOCAL_RANK='1',
                                    MASTER_ADDR='gpu03', MASTER_PORT='29500')
    monkeypatch.setenv('MASTER_PORT', '12345')
    monkeypatch.setenv('MASTER_ADDR', 'head')
    env = slurm_dist_env()
    assert env['MASTER_PORT'] == '12345' and env['MASTER_ADDR'] == 'head'
    assert slurm_dist_env(port=23456)['MASTER_PORT'] == '23456'  # env_cfg.dist_cfg.port
    monkeypatch.delenv('SLURM_LOCALID')
    monkeypatch.setenv('SLURM_NTASKS_PER_NODE', '4(x2)')
    assert slurm_dist_env()['LOCAL_RANK'] == '1'


def test_cpu_launcher_errors_name_the_problem(monkeypatch):
    for key in ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST'):
        monkeypatch.delenv(key, raising=False)
    if torch.cuda.is_available():  # GPU nodes: mmengine's own initialisation runs
        assert not prepare_cpu_distributed(Config(dict()), 'slurm')
        return
    with pytest.raises(RuntimeError, match=r'slurm needs \$SLURM_PROCID.*srun'):
        prepare_cpu_distributed(Config(dict()), 'slurm')
    with pytest.raises(RuntimeError, match="launcher='mpi' needs CUDA"):
        prepare_cpu_distributed(Config(dict()), 'mpi')
