"""SelfTrainingRunner end to end on tiny synthetic faces: stages, inits, resume, bad input."""
import json
from pathlib import Path

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from mmssl.engine.runners import SelfTrainingRunner
from stld_helpers import make_face_data, single_thread, tiny_cfg  # noqa: F401


@pytest.fixture(scope='module')
def faces(tmp_path_factory):
    return make_face_data(tmp_path_factory.mktemp('faces'), num_train=7, num_labeled=2)


def _unlabeled_ids(faces):
    return sorted(a['id'] for a in json.loads(Path(faces['unlabeled']).read_text())[
        'annotations'])


def _pseudo_ids(path):
    return sorted(a['id'] for a in json.loads(Path(path).read_text())['annotations'])


def test_two_rounds_run_the_right_stages_with_the_right_inits(faces, tmp_path):
    cfg = tiny_cfg(faces, tmp_path / 'work', num_rounds=2, max_epochs=5)
    records = SelfTrainingRunner(cfg).train()
    assert list(records) == [
        'round0_supervised', 'round0_eval', 'round0_pseudo_label',
        'round1_pseudo_pretrain', 'round1_mixed', 'round1_eval', 'round1_pseudo_label',
        'round2_pseudo_pretrain', 'round2_mixed', 'round2_eval', 'round2_pseudo_label']
    state = json.loads((tmp_path / 'work/self_training_state.json').read_text())
    assert list(state['completed']) == list(records)

    def setup(name):
        return records[name]['setup']

    def weights(name):
        return records[name]['weights']

    assert setup('round0_supervised')['load_from'] is None
    assert setup('round1_pseudo_pretrain')['load_from'] is None  # fresh (ImageNet) init
    assert setup('round1_mixed')['load_from'] == weights('round1_pseudo_pretrain')
    assert setup('round2_pseudo_pretrain')['load_from'] == weights('round1_pseudo_pretrain')
    assert setup('round2_mixed')['load_from'] == weights('round2_pseudo_pretrain')
    epochs = {n: setup(n)['train_cfg']['max_epochs'] for n in records if 'setup' in records[n]}
    assert epochs == dict(round0_supervised=5, round1_pseudo_pretrain=5, round1_mixed=5,
                          round2_pseudo_pretrain=1, round2_mixed=5)  # speed-up: 1/5
    # round 2 (= T): lambda 1, pseudo heatmaps with sigma 2.2 != 1.5 -> second output
    assert setup('round2_mixed')['head'] == dict(pseudo_loss_weight=1.0, shrink_branch=True)
    assert setup('round1_mixed')['head'] == {}
    n_lab, n_unl = 2, len(_unlabeled_ids(faces))
    assert {n: records[n]['num_train_samples'] for n in epochs} == dict(
        round0_supervised=n_lab, round1_pseudo_pretrain=n_unl, round1_mixed=n_lab,
        round2_pseudo_pretrain=n_unl, round2_mixed=n_lab + n_unl)
    for t in range(3):  # every unlabeled annotation pseudo-labeled once, every round
        rec = records[f'round{t}_pseudo_label']
        assert _pseudo_ids(rec['pseudo_file']) == _unlabeled_ids(faces)
        assert rec['metrics']['pseudo/num_labels'] == n_unl
        assert set(records[f'round{t}_eval']['metrics']) == {'NME', 'AUC@0.1', 'FR@0.1'}
    mixed_log = next((tmp_path / 'work/round2_mixed').glob('*/*.log')).read_text()
    assert f'Load checkpoint from {weights("round2_pseudo_pretrain")}' in mixed_log
    assert 'loss_kpt_pseudo' in mixed_log  # shrink term trained in round 2
    final = torch.load(tmp_path / 'work/final_model.pth', map_location='cpu')
    assert final['meta']['stage'] == 'round2_mixed'
    scalars = next((tmp_path / 'work/self_training_summary').glob('*/vis_data/scalars.json'))
    steps = [json.loads(line)['step'] for line in scalars.read_text().splitlines()]
    assert steps == [0, 0, 1, 1, 2, 2]  # test NME and pseudo-label stats per round


class Killed(Exception):
    pass


@HOOKS.register_module()
class STLDTestKillHook(Hook):
    """Raise in the middle of one stage (a job killed mid-stage)."""

    def __init__(self, stage: str, epoch: int) -> None:
        self.stage, self.epoch = stage, epoch

    def after_train_epoch(self, runner) -> None:
        if runner.work_dir.endswith(self.stage) and runner.epoch == self.epoch:
            raise Killed(f'killed in {self.stage} after epoch {self.epoch}')


def test_killed_job_resumes_at_the_next_stage(faces, tmp_path):
    cfg = tiny_cfg(faces, tmp_path / 'work', num_rounds=1, eval_each_round=False)
    runner = SelfTrainingRunner(cfg)

    def die_after_labelling(stage, record):
        if stage.name == 'round0_pseudo_label':
            raise Killed(stage.name)

    runner._on_stage_done = die_after_labelling
    with pytest.raises(Killed):
        runner.train()
    work = tmp_path / 'work'
    state = json.loads((work / 'self_training_state.json').read_text())
    assert list(state['completed']) == ['round0_supervised', 'round0_pseudo_label']
    done = [work / 'round0_supervised/stage_weights.pth',
            work / 'round0_pseudo_label/pseudo_labels_round0.json']
    stamps = [p.stat().st_mtime_ns for p in done]
    # a partial pseudo-label file of the not-completed round-1 labelling must not be used
    partial = work / 'round1_pseudo_label/pseudo_labels_round1.json'
    partial.parent.mkdir(parents=True)
    partial.write_text('{"images": [{"id": 1')

    restarted = SelfTrainingRunner(cfg)
    ran = []
    run_stage = restarted._run_stage
    restarted._run_stage = lambda stage: ran.append(stage.name) or run_stage(stage)
    records = restarted.train()
    assert ran == ['round1_pseudo_pretrain', 'round1_mixed', 'round1_eval',
                   'round1_pseudo_label']  # no finished stage redone
    assert [p.stat().st_mtime_ns for p in done] == stamps
    assert _pseudo_ids(partial) == _unlabeled_ids(faces)  # rewritten completely
    assert records['round1_pseudo_pretrain']['setup']['load_from'] is None


def test_interrupted_train_stage_continues_from_its_last_checkpoint(faces, tmp_path):
    cfg = tiny_cfg(faces, tmp_path / 'work', num_rounds=1, max_epochs=3,
                   eval_each_round=False, relabel_last_round=False)
    cfg.custom_hooks = list(cfg.custom_hooks) + [
        dict(type='STLDTestKillHook', stage='round1_mixed', epoch=2)]
    with pytest.raises(Killed):
        SelfTrainingRunner(cfg).train()
    cfg.custom_hooks = cfg.custom_hooks[:-1]
    records = SelfTrainingRunner(cfg).train()
    setup = records['round1_mixed']['setup']
    assert setup['resumed'] and setup['load_from'].endswith('round1_mixed/epoch_2.pth')
    log = next((tmp_path / 'work/round1_mixed').glob('*/*.log'), None)
    logs = ''.join(p.read_text() for p in (tmp_path / 'work/round1_mixed').glob('*/*.log'))
    assert log is not None and 'resumed epoch: 2' in logs
    assert 'Epoch(train)   [3]' in logs or 'Epoch(train) [3]' in logs


def test_changed_settings_of_a_completed_stage_are_refused(faces, tmp_path):
    cfg = tiny_cfg(faces, tmp_path / 'work', num_rounds=1, mode='selection', score_thr=0.0,
                   curriculum=None)
    runner = SelfTrainingRunner(cfg)

    def die(stage, record):
        if stage.kind == 'label':
            raise Killed(stage.name)

    runner._on_stage_done = die
    with pytest.raises(Killed):
        runner.train()
    cfg.self_training.score_thr = 0.5  # round0_pseudo_label was made with 0.0
    with pytest.raises(RuntimeError, match='round0_pseudo_label was completed with settings'):
        SelfTrainingRunner(cfg).train()


def _write(path: Path, obj) -> str:
    path.write_text(json.dumps(obj))
    return str(path)


def test_bad_input_fails_before_any_training(faces, tmp_path):
    work = tmp_path / 'work'
    missing = str(tmp_path / 'nope.json')
    with pytest.raises(FileNotFoundError, match='nope.json'):
        SelfTrainingRunner(tiny_cfg(faces, work, unlabeled_ann_file=missing))
    unl = json.loads(Path(faces['unlabeled']).read_text())
    empty = _write(tmp_path / 'empty.json', dict(unl, annotations=[]))
    with pytest.raises(ValueError, match='empty.json is empty'):
        SelfTrainingRunner(tiny_cfg(faces, work, unlabeled_ann_file=empty))
    wrong = dict(unl, annotations=[dict(a, keypoints=[0] * 98 * 3) for a in unl['annotations']])
    wrong = _write(tmp_path / 'wflw_like.json', wrong)
    with pytest.raises(ValueError, match='keypoint count mismatch.*68.*98'):
        SelfTrainingRunner(tiny_cfg(faces, work, unlabeled_ann_file=wrong))
    with pytest.raises(ValueError, match='curriculum must list one shrink value'):
        SelfTrainingRunner(tiny_cfg(faces, work, num_rounds=3, curriculum=[2.2]))
    cfg = tiny_cfg(faces, work)
    cfg.model.head.type = 'HeatmapHead'
    with pytest.raises(ValueError, match='needs a head with a shrink output'):
        SelfTrainingRunner(cfg)
    assert not work.exists() or not any(p.name.startswith('round') for p in work.iterdir())
