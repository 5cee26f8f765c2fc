"""tools/quickstart.sh's semi-supervised stages in a tiny form (tiny ResNet, 2 iterations, the
``synthetic_body`` fixture): two supervised models (seeds 0, 1) -> tools/misc/pose_dual_init.py
-> PoseDual with ``load_from`` -> evaluation -> tools/misc/quickstart_summary.py. Checks the
hand-over (each network starts from its supervised model, consistency from the first
iteration) and the printed summary."""
import importlib.util
import json
import re
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook

from mmssl_testing import REPO_ROOT, load_semi_pose_cfg

SUP = 'quickstart/td-hm_res18_synthetic-body-first100-128x96.py'
DUAL = 'quickstart/posedual_res18_synthetic-body-first100-128x96.py'
ITERS = 2


def _tool(name):
    spec = importlib.util.spec_from_file_location(f'mmssl_tool_{name}',
                                                  REPO_ROOT / 'tools' / 'misc' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pose_dual_init = _tool('pose_dual_init')
quickstart_summary = _tool('quickstart_summary')


@pytest.fixture
def restore_determinism():
    """The configs' ``randomness.deterministic=True`` is process-wide; undo it after."""
    before = (torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.benchmark,
              torch.backends.cudnn.deterministic)
    yield
    torch.use_deterministic_algorithms(before[0])
    torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = before[1:]


def _tiny(rel_config, data_root, work_dir, **changes):
    """The shipped config at the fixture's data, tiny, ``ITERS`` iterations; the quickstart's
    randomness, seed, unsup_start_iter and load_from as shipped unless ``changes`` say."""
    cfg = load_semi_pose_cfg(rel_config, data_root, work_dir, batch_size=4)
    cfg.train_cfg.max_iters = cfg.train_cfg.val_interval = ITERS
    warmup, steps = cfg.param_scheduler
    warmup.end, steps.end, steps.milestones = 1, ITERS, [ITERS - 1]
    cfg.default_hooks.checkpoint.interval = ITERS
    cfg.merge_from_dict(changes)
    return cfg


class WeightsAtStart(Hook):
    """Records the model's state at ``before_train`` (after ``load_from``)."""

    def before_train(self, runner) -> None:
        self.state = {k: v.clone() for k, v in runner.model.state_dict().items()}


def _supervised_state(ckpt):
    return torch.load(ckpt, map_location='cpu', weights_only=True)['state_dict']


def test_quickstart_configs_as_the_script_runs_them():
    sup = Config.fromfile(str(REPO_ROOT / 'configs' / SUP), import_custom_modules=False)
    dual = Config.fromfile(str(REPO_ROOT / 'configs' / DUAL), import_custom_modules=False)
    for cfg in (sup, dual):  # a fixed seed, chosen up front
        assert cfg.randomness == dict(seed=0, deterministic=True)
    assert dual.model.type == 'PoseDual' and dual.model.unsup_start_iter == 0
    assert dual.default_hooks.checkpoint.save_best == 'ensemble/coco/AP'
    assert dual.model.estimator == sup.model  # the networks are the supervised estimator
    assert dual.train_dataloader.dataset.datasets[0].ann_file == (
        sup.train_dataloader.dataset.ann_file)  # the same labeled persons
    script = (REPO_ROOT / 'tools/quickstart.sh').read_text()
    assert 'set -Eeuo pipefail' in script
    for cfg in (SUP, DUAL):
        assert f'configs/{cfg}' in script
    proc = subprocess.run(['bash', str(REPO_ROOT / 'tools/quickstart.sh'), '--amp'],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and 'no arguments' in proc.stderr


def test_supervised_to_pose_dual_hand_over(synthetic_body, tmp_path, capsys,
                                           restore_determinism):
    from mmengine.runner import Runner
    ckpts = []
    for seed in (0, 1):  # as tools/quickstart.sh: --cfg-options randomness.seed=SEED
        cfg = _tiny(SUP, synthetic_body, tmp_path / f'supervised-seed{seed}',
                    **{'randomness.seed': seed})
        runner = Runner.from_cfg(cfg)
        runner.train()
        ckpts.append((tmp_path / f'supervised-seed{seed}/last_checkpoint').read_text().strip())
        del runner
    pair = pose_dual_init.pose_dual_init(ckpts, str(tmp_path / 'supervised_pair.pth'))

    # the supervised start, evaluated as tools/test.py does (load_from = CHECKPOINT)
    cfg = _tiny(DUAL, synthetic_body, tmp_path / 'supervised_pair', load_from=pair)
    start_metrics = Runner.from_cfg(cfg).test()

    cfg = _tiny(DUAL, synthetic_body, tmp_path / 'posedual', load_from=pair)
    runner = Runner.from_cfg(cfg)
    start = WeightsAtStart()
    runner.register_hook(start, priority='HIGHEST')
    runner.train()
    supervised = [_supervised_state(c) for c in ckpts]
    for name, state in zip(('net1', 'net2'), supervised):
        for key, value in state.items():
            assert torch.equal(start.state[f'{name}.{key}'], value), (name, key)
    assert any(not torch.equal(supervised[0][k], supervised[1][k]) for k in supervised[0]), \
        'seeds 0 and 1 gave the same supervised model'
    # the networks teach each other from the first iteration, and training moved them
    assert runner.message_hub.get_scalar('train/unsup_net1_loss').current() > 0
    trained = runner.model.state_dict()
    assert not torch.equal(trained['net1.head.final_layer.weight'],
                           start.state['net1.head.final_layer.weight'])
    dual_metrics = runner.test()
    for metrics in (start_metrics, dual_metrics):
        for mode in ('net1', 'net2', 'ensemble'):
            assert 0 <= metrics[f'{mode}/coco/AP'] <= 1 and 0 <= metrics[f'{mode}/PCK'] <= 1
    del runner

    # the printed summary, through the CLI the script calls
    files = []
    for name, metrics in (('start', start_metrics), ('dual', dual_metrics)):
        files.append(tmp_path / f'{name}.json')
        files[-1].write_text(json.dumps(metrics))
    dual_cfg = tmp_path / 'posedual.py'
    cfg.dump(str(dual_cfg))
    argv = sys.argv
    sys.argv = ['quickstart_summary.py', str(REPO_ROOT / 'configs' / SUP), str(dual_cfg),
                *map(str, files), '--seeds', '0', '1']
    try:
        capsys.readouterr()
        quickstart_summary.main()
    finally:
        sys.argv = argv
    lines = capsys.readouterr().out.strip().split('\n')
    num = r'-?\d\.\d{4}'
    metric_line = (rf'^    (net1|net2|ensemble) +coco/AP={num}, coco/AP \.5={num}, '
                   rf'coco/AR={num}, PCK={num}$')
    n_labeled, n_unlabeled = (
        len(json.loads((synthetic_body / f'semi_anns/person_keypoints_train.{part}@first100'
                        '.json').read_text())['annotations']) for part in ('labeled', 'unlabeled'))
    assert lines[0] == (f'[mmssl quickstart] synthetic bodies: {n_labeled} labeled persons + '
                        f'{n_unlabeled} unlabeled boxes; val split, GT boxes, no flip test')
    assert lines[1] == ('  supervised: 500 iters on the labeled persons (net1 seed 0, net2 '
                        'seed 1)')
    assert lines[5] == (f'  PoseDual: {ITERS} more iters from the supervised pair, labeled '
                        '+ unlabeled')
    for line in lines[2:5] + lines[6:9]:
        assert re.match(metric_line, line), line
    assert lines[2].split()[1] == f'coco/AP={start_metrics["net1/coco/AP"]:.4f},'
    assert lines[8].split()[1] == f'coco/AP={dual_metrics["ensemble/coco/AP"]:.4f},'
    gain = dual_metrics['ensemble/coco/AP'] - start_metrics['ensemble/coco/AP']
    assert re.match(rf'^  PoseDual - supervised \(ensemble\): coco/AP {re.escape(f"{gain:+.4f}")}, '
                    r'PCK [+-]\d\.\d{4}$', lines[9]), lines[9]
    assert len(lines) == 10


def _plain(path, **tensors):
    torch.save(dict(state_dict=tensors), path)
    return str(path)


def test_pose_dual_init_checks_its_inputs(tmp_path):
    a = _plain(tmp_path / 'a.pth', **{'backbone.w': torch.zeros(2), 'head.b': torch.ones(1)})
    b = _plain(tmp_path / 'b.pth', **{'backbone.w': torch.ones(2), 'head.b': torch.zeros(1)})
    out = pose_dual_init.pose_dual_init([a, b], str(tmp_path / 'pair.pth'))
    state = torch.load(out, weights_only=True)['state_dict']
    assert sorted(state) == ['net1.backbone.w', 'net1.head.b', 'net2.backbone.w', 'net2.head.b']
    assert torch.equal(state['net2.backbone.w'], torch.ones(2))
    other = _plain(tmp_path / 'c.pth', **{'backbone.w': torch.zeros(3), 'head.b': torch.ones(1)})
    with pytest.raises(ValueError, match='shape'):
        pose_dual_init.pose_dual_init([a, other], str(tmp_path / 'x.pth'))
    with pytest.raises(ValueError, match='different keys'):
        pose_dual_init.pose_dual_init([a, _plain(tmp_path / 'd.pth', w=torch.ones(1))],
                                      str(tmp_path / 'x.pth'))
    with pytest.raises(ValueError, match='already holds PoseDual networks'):
        pose_dual_init.pose_dual_init([out, out], str(tmp_path / 'x.pth'))
    with pytest.raises(FileNotFoundError, match='missing.pth does not exist'):
        pose_dual_init.pose_dual_init([a, str(tmp_path / 'missing.pth')],
                                      str(tmp_path / 'x.pth'))
    with pytest.raises(ValueError, match='need 2 checkpoints'):
        pose_dual_init.pose_dual_init([a], str(tmp_path / 'x.pth'))
