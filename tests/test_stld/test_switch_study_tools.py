"""The tools of the STLD paper-vs-release study: per-round metrics from a state file and the
study script's commands (dry run: nothing trains)."""
import importlib.util
import json
import os
import subprocess

from mmengine.config import Config

from stld_helpers import REPO_ROOT, single_thread  # noqa: F401


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        'stld_round_metrics', REPO_ROOT / 'tools/analysis/stld_round_metrics.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_round_metrics_are_percent_per_round_and_count_only_own_stages(tmp_path):
    def record(kind, rnd, metrics, seconds, **extra):
        return dict(spec=dict(kind=kind, round=rnd), metrics=metrics,
                    timing=dict(total_s=seconds), **extra)

    completed = dict(
        round0_supervised=record('train', 0, None, 3600, reused_from='/elsewhere'),
        round0_eval=record('eval', 0, {'NME': 0.0584, 'AUC@0.1': 0.4176}, 36,
                           reused_from='/elsewhere'),
        round0_pseudo_label=record('label', 0, {'pseudo/NME': 0.061}, 0,
                                   reused_from='/elsewhere'),
        round1_mixed=record('train', 1, None, 1800),
        round1_eval=record('eval', 1, {'NME': 0.0308, 'AUC@0.1': 0.6919}, 0))
    (tmp_path / 'self_training_state.json').write_text(
        json.dumps(dict(version=1, completed=completed)))
    metrics = _load_tool().round_metrics(str(tmp_path))
    expected = {'round0/NME': 5.84, 'round1/NME': 3.08, 'round0/AUC': 41.76,
                'round1/AUC': 69.19, 'round0/pseudo_NME': 6.1, 'own_h': 0.5,
                'reused_h': 1.01, 'reused_stages': 3}
    assert set(metrics) == set(expected)
    assert all(abs(metrics[k] - v) < 1e-9 for k, v in expected.items())


def test_study_script_reuses_the_paper_arm_and_scales_the_schedule(tmp_path):
    env = dict(os.environ, DRY_RUN='1', WORK_DIR=str(tmp_path), EPOCHS='10', SEEDS='0 1',
               ARMS='paper release output lambda oversample')
    out = subprocess.run(['bash', str(REPO_ROOT / 'tools/analysis/stld_switch_study.sh')],
                         env=env, capture_output=True, text=True, check=True).stdout
    trains = [line for line in out.splitlines() if 'tools/train.py' in line]
    assert len(trains) == 10  # 5 arms x 2 seeds, seed-major, the paper arm first
    assert trains[0].endswith('--work-dir %s/paper/seed0 --cfg-options randomness.seed=0 '
                              'self_training.protocol=paper' % tmp_path)
    # a single switch sits on the paper's protocol, not on the default ('measured')
    options = dict(release='self_training.protocol=release',
                   output='self_training.protocol=paper '
                   'self_training.standard_pseudo_output=shrink',
                   lambda_='self_training.protocol=paper '
                   'self_training.pseudo_loss_weight_index=release',
                   oversample='self_training.protocol=paper '
                   'self_training.last_round_oversample=False')
    for line, option in zip(trains[1:5], options.values()):
        assert option in line
        assert line.endswith(f'self_training.reuse_stages_from={tmp_path}/paper/seed0')
    assert trains[5].endswith('randomness.seed=1 self_training.protocol=paper')
    cfg = Config.fromfile(str(tmp_path / 'study_stld.py'))
    assert cfg.train_cfg.max_epochs == 10
    assert cfg.param_scheduler[0].milestones == [7, 8] and cfg.param_scheduler[0].end == 10
    assert cfg.self_training.curriculum == [2.2, 1.8, 1.5]  # the shipped config otherwise
    bad = subprocess.run(['bash', str(REPO_ROOT / 'tools/analysis/stld_switch_study.sh')],
                         env=dict(env, ARMS='paper fast'), capture_output=True, text=True)
    assert bad.returncode == 2 and 'unknown arm fast' in bad.stderr
