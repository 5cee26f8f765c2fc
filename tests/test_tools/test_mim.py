"""``mim train mmssl`` / ``mim test mmssl`` (OpenMMLab's mim) on the CPU.

mim runs the package's ``mmssl/.mim/tools/{train,test}.py`` and looks configs up in
``mmssl/.mim/configs`` (setup.py's ``add_mim_extension``). Both installs are exercised: the
editable one of tools/setup_env.sh (links into the checkout) and a wheel built from a copy of
the sources, installed into a folder of its own.
"""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from fake_srun import write_fake_srun
from mmssl_testing import load_tiny_pose_cfg

MIM = [sys.executable, '-m', 'mim']  # what the `mim` command runs


def _mim(*args, env, cwd):
    proc = subprocess.run([*MIM, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=240)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    return out


def _env(pythonpath):
    env = {k: v for k, v in os.environ.items()
           if k not in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT')}
    env.update(PYTHONPATH=str(pythonpath), OMP_NUM_THREADS='1')
    return env


def test_mim_links_in_checkout(repo_root):
    """The editable install's ``mmssl/.mim`` points at the live configs/ and tools/."""
    mim_dir = repo_root / 'mmssl' / '.mim'
    for name in ('configs', 'tools', 'model-index.yml'):
        if (repo_root / name).exists():
            assert (mim_dir / name).resolve() == (repo_root / name).resolve(), name
    assert (mim_dir / 'tools' / 'train.py').is_file()


def test_mim_train_two_processes_editable(repo_root, tmp_path):
    """``--gpus 2 --launcher pytorch``: mim starts torch.distributed.launch; on a CPU the
    two processes join a gloo group. The checkout goes first on PYTHONPATH: mim finds a
    package's files next to its metadata, which an editable install keeps in the checkout
    (``mmssl.egg-info``), not in site-packages."""
    cfg = load_tiny_pose_cfg(tmp_path / 'unused')
    cfg_path = str(tmp_path / 'tiny.py')
    cfg.dump(cfg_path)
    port = str(22000 + os.getpid() % 5000)
    out = _mim('train', 'mmssl', cfg_path, '--gpus', '2', '--launcher', 'pytorch', '--port',
               port, '--work-dir', str(tmp_path / 'w'), '--cfg-options',
               'train_cfg.max_iters=2', env=_env(repo_root), cwd=tmp_path)
    script = repo_root / 'mmssl' / '.mim' / 'tools' / 'train.py'
    assert (f'-m torch.distributed.launch --nproc_per_node=2 --master_port={port} {script} '
            f'{cfg_path} --launcher pytorch') in out
    assert 'GPU number: 2' in out and 'Iter(train) [2/2]' in out
    assert (tmp_path / 'w' / 'iter_2.pth').is_file()
    assert 'Training finished successfully' in out


def test_mim_slurm_commands_editable(repo_root, tmp_path):
    """``--launcher slurm``: mim calls ``srun`` (a recording stand-in here; the launch itself
    is tested in test_slurm_launch.py) with the package's scripts, and finds a config of
    configs/ by its name through ``mmssl/.mim/configs``."""
    configs = [p for p in (repo_root / 'configs').rglob('*.py') if '_base_' not in p.parts]
    names = [p.name for p in configs]
    config = next(p for p in configs if names.count(p.name) == 1)
    bin_dir, log = write_fake_srun(tmp_path)
    env = dict(_env(repo_root), FAKE_SRUN_DRY_RUN='1',
               PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}')
    slurm = ['--launcher', 'slurm', '--gpus', '4', '--gpus-per-node', '2', '--partition',
             'part', '--port', '23456']
    out = _mim('train', 'mmssl', config.name, *slurm, '--work-dir', 'w', env=env,
               cwd=tmp_path)
    assert f'will use {config.resolve()} instead' in out
    out += _mim('test', 'mmssl', config.name, '--checkpoint', 'w/latest.pth', *slurm,
                env=env, cwd=tmp_path)
    train, test = [json.loads(line) for line in log.read_text().splitlines()]
    for call, tool in ((train, 'train'), (test, 'test')):
        assert call['opts']['-p'] == 'part' and call['opts']['--ntasks'] == '4'
        assert call['opts']['--gres'] == 'gpu:2' and call['opts']['--ntasks-per-node'] == '2'
        assert call['cmd'][2] == str(repo_root / 'mmssl' / '.mim' / 'tools' / f'{tool}.py')
        assert call['cmd'][3] == str(config.resolve())
        assert call['cmd'][-2:] == (['--work-dir', 'w'] if tool == 'train' else
                                    ['--launcher', 'slurm'])
        assert ['--launcher', 'slurm'] == call['cmd'][call['cmd'].index('--launcher'):][:2]
    assert test['cmd'][4] == 'w/latest.pth'


def _copy_sources(repo_root: Path, dst: Path) -> None:
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc', '.mim', '*.egg-info')
    for name in ('mmssl', 'configs', 'tools', 'requirements'):
        shutil.copytree(repo_root / name, dst / name, ignore=ignore)
    for name in ('setup.py', 'MANIFEST.in', 'README.md', 'model-index.yml'):
        if (repo_root / name).exists():
            shutil.copy(repo_root / name, dst / name)


def test_mim_train_and_test_from_wheel(repo_root, tmp_path):
    """A wheel carries real copies of configs/ and tools/ in ``mmssl/.mim``; mim finds a
    config by its name there, trains single-process (``--gpus 0``) and tests."""
    src = tmp_path / 'src'
    _copy_sources(repo_root, src)
    cfg = load_tiny_pose_cfg(tmp_path / 'unused')
    (src / 'configs' / 'mim_test').mkdir()
    cfg.dump(str(src / 'configs' / 'mim_test' / 'tiny-mim-test_coco.py'))
    pip = [sys.executable, '-m', 'pip', '--disable-pip-version-check', '-q']
    subprocess.run(pip + ['wheel', '--no-deps', '--no-build-isolation', '-w',
                          str(tmp_path / 'dist'), str(src)], check=True, capture_output=True,
                   timeout=240)
    wheel, = (tmp_path / 'dist').glob('mmssl-*.whl')
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f'mmssl/.mim/{p.relative_to(repo_root).as_posix()}'
               for p in (repo_root / 'configs').rglob('*.py')}
    assert shipped and shipped <= names, sorted(shipped - names)[:5]
    assert {'mmssl/.mim/tools/train.py', 'mmssl/.mim/tools/test.py',
            'mmssl/.mim/tools/slurm_train.sh', 'mmssl/__init__.py'} <= names
    if (repo_root / 'model-index.yml').exists():
        assert 'mmssl/.mim/model-index.yml' in names
    site = tmp_path / 'site'
    subprocess.run(pip + ['install', '--no-deps', '--target', str(site), str(wheel)],
                   check=True, capture_output=True, timeout=240)
    env = _env(site)
    found = subprocess.run([sys.executable, '-c', 'import importlib.util as u; '
                            'print(u.find_spec("mmssl").origin)'], env=env, cwd=tmp_path,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert Path(found) == site / 'mmssl' / '__init__.py'  # the wheel's package, not the repo

    out = _mim('train', 'mmssl', 'tiny-mim-test_coco.py', '--gpus', '0', '--work-dir',
               str(tmp_path / 'w'), '--cfg-options', 'train_cfg.max_iters=2', env=env,
               cwd=tmp_path)
    installed_cfg = site / 'mmssl' / '.mim' / 'configs' / 'mim_test' / 'tiny-mim-test_coco.py'
    assert f'will use {installed_cfg} instead' in out
    assert f"{site / 'mmssl/.mim/tools/train.py'} {installed_cfg} --launcher none" in out
    assert not os.path.islink(site / 'mmssl' / '.mim' / 'tools')
    assert 'Iter(train) [2/2]' in out and (tmp_path / 'w' / 'iter_2.pth').is_file()

    metrics_file = tmp_path / 'metrics.json'
    out = _mim('test', 'mmssl', 'tiny-mim-test_coco.py', '--checkpoint',
               str(tmp_path / 'w' / 'iter_2.pth'), '--work-dir', str(tmp_path / 't'),
               '--out', str(metrics_file), env=env, cwd=tmp_path)
    assert 'coco/AP:' in out and 'Testing finished successfully' in out
    assert 0 <= json.loads(metrics_file.read_text())['coco/AP'] <= 1
