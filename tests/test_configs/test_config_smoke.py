"""As-shipped harness: every config under configs/ trains, validates, saves its best
checkpoint and is tested by ``tools/test.py``, changed only as ``as_shipped.ALLOWED_CHANGES``
lists (fixture data, random init, small batches and models, a short schedule).

For each config: the loop, schedulers, checkpoint hook, evaluators, hooks, wrapper and runner
are the config's own; the test asserts that the metric keys its hooks name (``save_best``,
``ReduceOnPlateauLR`` monitors) are produced by its validation, that the best checkpoint
``save_best`` names was written, and that ``tools/test.py CONFIG CKPT`` prints the keys the
metafile's results (the README tables) name. (mmdet's Soft Teacher validates the teacher and
the student as ``teacher/...``, ``student/...``; its test reports the teacher unprefixed.) Configs whose structure is identical (they differ only in data
files and schedule numbers, e.g. the COCO 1K/5K/10K variants) share one run: the others build
their data and evaluator and are checked statically.
"""
import importlib.util
import json
import os.path as osp
import sys
from pathlib import Path
from typing import Dict, List

import pytest
from mmengine.config import Config
from mmengine.hooks import Hook

from as_shipped import (CONFIG_ROOT, SESSION_WORK_DIRS, config_name, list_configs,
                        smoke_config, walk)
from mmssl_testing import REPO_ROOT

CONFIGS = list_configs()
_RUN_KEYS_IGNORED = ('ann_file', 'data_root', 'data_prefix', 'bbox_file', 'headbox_file',
                     'unlabeled_ann_file', 'pseudo_gt_ann_file', 'milestones', 'begin', 'end',
                     'max_epochs', 'max_iters', 'load_from', 'work_dir')


def test_configs_exist():
    assert 'quickstart/td-hm_res18_synthetic-body-128x96.py' in CONFIGS


def _without(node):
    """The config tree without data paths, schedule numbers and real-valued settings (loss
    weights, thresholds, learning rates: the same code runs), keys in sorted order; configs
    with the same tree share a run."""
    if isinstance(node, dict):
        return {k: _without(node[k]) for k in sorted(node) if k not in _RUN_KEYS_IGNORED}
    if isinstance(node, (list, tuple)):
        return [_without(v) for v in node]
    if isinstance(node, float):
        return 'float'
    return node


def _structure(cfg: Config) -> str:
    keys = ('model', 'train_dataloader', 'val_dataloader', 'val_evaluator', 'train_cfg',
            'val_cfg', 'test_cfg', 'param_scheduler', 'optim_wrapper', 'default_hooks',
            'custom_hooks', 'model_wrapper_cfg', 'runner_type', 'self_training')
    return repr(_without({k: cfg.to_dict().get(k) for k in keys}))


class MetricsRecorder(Hook):
    """Test observer: records every validation's metrics before the config's own hooks
    (``CheckpointHook``, ``ParamSchedulerHook``) read them."""

    def __init__(self) -> None:
        self.val: List[Dict[str, float]] = []

    def after_val_epoch(self, runner, metrics=None) -> None:
        self.val.append(dict(metrics or {}))


def named_metric_keys(cfg: Config) -> Dict[str, str]:
    """Metric key -> who names it (``save_best``, a scheduler's ``monitor``)."""
    keys = {}
    best = (cfg.get('default_hooks') or {}).get('checkpoint', {}).get('save_best')
    for key in ([best] if isinstance(best, str) else list(best or [])):
        if key != 'auto':
            keys[key] = 'default_hooks.checkpoint.save_best'

    def monitor(node):
        if node.get('monitor'):  # ReduceOnPlateauLR and its kind
            keys[node['monitor']] = f'param_scheduler {node.get("type")}.monitor'
    walk(cfg.get('param_scheduler'), monitor)
    return keys


def metafile_metric_keys(rel_path: str) -> Dict[str, str]:
    from mmssl.zoo import load_model_index
    keys = {}
    for model in load_model_index(REPO_ROOT).models_of(f'configs/{rel_path}'):
        for result in model.results:
            keys[result.metric_key] = f'metafile {model.name} ({result.metric})'
    return keys


def check_produced(rel_path: str, named: Dict[str, str], produced: Dict[str, float]) -> None:
    missing = {k: who for k, who in named.items() if k not in produced}
    assert not missing, (
        f'configs/{rel_path}: metric key(s) {sorted(missing)} named by '
        f'{sorted(set(missing.values()))} are not produced by its evaluator; it produced '
        f'{sorted(produced)}')


def best_checkpoints(work_dir: Path, key: str) -> List[Path]:
    return sorted(work_dir.glob(f'best_{key.replace("/", "_")}_*.pth'))


def _tools_test_main():
    spec = importlib.util.spec_from_file_location('mmssl_tools_test', REPO_ROOT / 'tools/test.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def run_tools_test(cfg: Config, ckpt: Path, tmp_path: Path, capfd) -> Dict[str, float]:
    """``tools/test.py CONFIG CKPT --out metrics.json`` on the harness's config file."""
    cfg_file = tmp_path / 'as_shipped_config.py'
    cfg.dump(str(cfg_file))
    out = tmp_path / 'test_metrics.json'
    argv = sys.argv
    sys.argv = ['tools/test.py', str(cfg_file), str(ckpt), '--work-dir',
                str(tmp_path / 'test'), '--out', str(out)]
    try:
        capfd.readouterr()
        _tools_test_main()()
    finally:
        sys.argv = argv
    printed = ''.join(capfd.readouterr())
    metrics = json.loads(out.read_text())
    for key in metrics:
        assert key in printed, f'tools/test.py did not print {key!r}'
    return metrics


TRAINED_STRUCTURES: Dict[str, Path] = {}


@pytest.mark.parametrize('rel_path', CONFIGS)
def test_config_as_shipped(rel_path, tmp_path, capfd):
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    from mmssl.zoo import check_schedule
    shipped = Config.fromfile(str(CONFIG_ROOT / rel_path))
    check_schedule(shipped, f'configs/{rel_path}')  # the loop and its schedulers agree
    cfg = smoke_config(rel_path, tmp_path)
    named = named_metric_keys(cfg)  # read from the validation by the config's hooks
    reported = metafile_metric_keys(rel_path)  # read from tools/test.py by the zoo tables
    structure = _structure(cfg)
    multi_stage = 'runner_type' in cfg
    if structure in TRAINED_STRUCTURES:
        # same everything but data files and schedule numbers: build its data and evaluator
        SESSION_WORK_DIRS[config_name(rel_path)] = TRAINED_STRUCTURES[structure]
        runner = RUNNERS.build(cfg) if multi_stage else Runner.from_cfg(cfg)
        if not multi_stage:
            assert next(iter(runner.build_dataloader(cfg.train_dataloader)))
            runner.build_evaluator(cfg.val_evaluator)
        return
    work_dir = Path(cfg.work_dir)
    TRAINED_STRUCTURES[structure] = work_dir
    SESSION_WORK_DIRS[config_name(rel_path)] = work_dir
    if multi_stage:
        _run_multi_stage(rel_path, cfg, dict(named, **reported))
        return
    runner = Runner.from_cfg(cfg)
    recorder = MetricsRecorder()
    runner.register_hook(recorder, priority='HIGHEST')
    try:
        runner.train()
    except KeyError as err:  # a hook asked the evaluator for a key it did not produce
        produced = recorder.val[-1] if recorder.val else {}
        key = err.args[0] if err.args else err
        raise AssertionError(
            f'configs/{rel_path}: metric key {key!r} (named by '
            f'{named.get(key, "a hook")}) is not produced by its evaluator; it produced '
            f'{sorted(produced)}') from err
    max_iters = runner.train_loop.max_iters
    assert runner.iter == max_iters, f'{rel_path}: trained {runner.iter}/{max_iters} iters'
    if not cfg.get('val_dataloader'):
        return
    assert recorder.val, f'configs/{rel_path}: no validation ran in the shortened schedule'
    produced = recorder.val[-1]
    check_produced(rel_path, named, produced)
    best = (cfg.default_hooks.get('checkpoint') or {}).get('save_best')
    ckpt = None
    if isinstance(best, str) and best != 'auto':
        found = best_checkpoints(work_dir, best)
        assert found, (f'configs/{rel_path}: save_best={best!r} wrote no best checkpoint in '
                       f'{work_dir}: {sorted(p.name for p in work_dir.glob("*.pth"))}')
        ckpt = found[-1]
    else:
        last = work_dir / 'last_checkpoint'
        assert last.is_file(), f'configs/{rel_path}: no checkpoint written'
        ckpt = Path(last.read_text().strip())
    del runner
    tested = run_tools_test(cfg, ckpt, tmp_path, capfd)
    check_produced(rel_path, reported, tested)
    assert osp.isdir(cfg.work_dir)


def _run_multi_stage(rel_path: str, cfg: Config, named: Dict[str, str]) -> None:
    """A self-training curriculum: every stage trains; the final model is tested."""
    from mmengine.registry import RUNNERS
    runner = RUNNERS.build(cfg)
    runner.train()
    metrics = runner.test()
    check_produced(rel_path, named, metrics)
