"""Seed studies: statistics, paired differences, commands and resuming from finished runs."""
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from mmssl.utils.seed_study import (Arm, format_markdown, load_metrics, mean_std,
                                    metrics_file, summarize, train_command)

ROOT = Path(__file__).resolve().parents[2]


def _write(work, arm, seed, metrics):
    path = Path(metrics_file(str(work), arm, seed))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(metrics))


def test_mean_std_is_the_sample_std():
    mean, std = mean_std([1., 2., 4.])
    assert mean == pytest.approx(7 / 3)
    assert std == pytest.approx(math.sqrt(((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 +
                                           (4 - 7 / 3) ** 2) / 2))
    assert mean_std([5.])[1] == 0


def test_paired_differences_use_the_same_seed_only(tmp_path):
    base = {0: 0.10, 1: 0.20, 2: 0.30}
    ours = {0: 0.15, 1: 0.19, 3: 0.90}  # seed 3 has no baseline run: not paired
    for s, v in base.items():
        _write(tmp_path, 'sup', s, {'AP': v})
    for s, v in ours.items():
        _write(tmp_path, 'dual', s, {'AP': v})
    metrics = load_metrics(str(tmp_path), ['sup', 'dual'], [0, 1, 2, 3])
    summary = summarize(metrics, ['AP'], 'sup')
    assert summary.diffs['dual']['AP'] == pytest.approx({0: 0.05, 1: -0.01})
    table = format_markdown(summary, ['AP'])
    assert '| dual | 2 | +0.0200 +- 0.0424 | 1 of 2 |' in table
    assert '| sup | 3 | 0.2000 +- 0.1000 |' in table


def test_missing_key_names_arm_and_seed(tmp_path):
    _write(tmp_path, 'sup', 0, {'PCK': 0.5})
    with pytest.raises(KeyError, match="arm 'sup' seed 0: metric 'AP'"):
        summarize(load_metrics(str(tmp_path), ['sup'], [0]), ['AP'], 'sup')


def test_arm_spec_and_seed_comes_last():
    arm = Arm.parse('dual=configs/x.py,model.unsup_weight=2,train_cfg.max_iters=10')
    assert (arm.name, arm.config) == ('dual', 'configs/x.py')
    cmd = train_command('py', arm, 3, 'w', ['train_cfg.val_interval=5'])
    assert cmd[cmd.index('--cfg-options') + 1:] == [
        'model.unsup_weight=2', 'train_cfg.max_iters=10', 'train_cfg.val_interval=5',
        'randomness.seed=3']
    assert cmd[cmd.index('--work-dir') + 1] == 'w/dual/seed3'
    with pytest.raises(ValueError, match='NAME=CONFIG'):
        Arm.parse('configs/x.py')


def test_tool_resumes_without_rerunning_finished_runs(tmp_path):
    """Every run finished: the tool trains nothing (the configs do not even exist) and
    prints the tables, reading the multi-network arm through its key prefix."""
    for s in (0, 1, 2):
        _write(tmp_path, 'sup', s, {'coco/AP': 0.1 + s / 100})
        _write(tmp_path, 'dual', s, {'ensemble/coco/AP': 0.2 + s / 100, 'net1/coco/AP': 0.})
    out = tmp_path / 'table.md'
    res = subprocess.run(
        [sys.executable, 'tools/analysis/seed_study.py', str(tmp_path), '--arm',
         'sup=missing_a.py', '--arm', 'dual=missing_b.py', '--keys', 'coco/AP',
         '--key-prefix', 'dual=ensemble/', '--out', str(out)],
        cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert '| dual | 3 | +0.1000 +- 0.0000 | 3 of 3 |' in out.read_text()
