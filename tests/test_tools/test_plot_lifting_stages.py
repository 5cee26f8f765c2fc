"""The per-stage plot of a lifting seed study reads the study's metrics files."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tool():
    spec = importlib.util.spec_from_file_location(
        'plot_lifting_stages', ROOT / 'tools/analysis/plot_lifting_stages.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(work, arm, seed, metrics):
    path = work / arm / f'seed{seed}' / 'metrics.json'
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(metrics))


def test_stage_series_orders_stages_numerically_and_appends_the_final():
    runs = {0: {'MPJPE_s10': 10., 'MPJPE_s2': 2., 'MPJPE_s1': 1., 'MPJPE': 99.},
            1: {'MPJPE_s1': 3., 'MPJPE_s2': 4., 'MPJPE_s10': 5., 'MPJPE': 98.}}
    series = _tool().stage_series(runs, 'MPJPE', 'MPJPE')
    np.testing.assert_array_equal(series, [[1, 2, 10, 99], [3, 4, 5, 98]])
    with pytest.raises(KeyError, match='no PCK_sN keys'):
        _tool().stage_series(runs, 'PCK')


def test_plot_draws_a_png(tmp_path):
    for arm, off in (('plain', 0.), ('lift', 1.)):
        for seed in (0, 1):
            m = {f'PCK_s{s}': 0.1 * s + off for s in (1, 2, 3)}
            m |= {f'EPE_s{s}': 5. - s for s in (1, 2, 3)}
            m |= {'MPJPE_s1': 90., 'MPJPE_s2': 80. - off - seed, 'MPJPE': 70.}
            _write(tmp_path, arm, seed, m)
    out = tmp_path / 'stages.png'
    res = subprocess.run([sys.executable, 'tools/analysis/plot_lifting_stages.py', str(tmp_path),
                          '--arms', 'plain', 'lift', '--seeds', '0', '1', '--out', str(out)],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
