"""SelfTrainingRunner paths beyond the HM STLD job: the TF (Lp) shrink branch, labeled
oversampling, ``pseudo_flip_test``, a selection round where no pseudo-label survives, and the
stages/losses of the Fig. 9 ablations and the weighted (linear warm-up) baseline."""
import json
import re
from pathlib import Path

import numpy as np
import pytest

from mmssl.engine.runners import SelfTrainingRunner
from stld_helpers import make_face_data, single_thread, tiny_cfg  # noqa: F401


@pytest.fixture(scope='module')
def faces(tmp_path_factory):
    return make_face_data(tmp_path_factory.mktemp('faces'), num_train=7, num_labeled=2)


N_LAB = 2


def _n_unlabeled(faces) -> int:
    return len(json.loads(Path(faces['unlabeled']).read_text())['annotations'])


def _stage_log(work: Path, stage: str) -> str:
    return ''.join(p.read_text() for p in (work / stage).glob('*/*.log'))


def _samples(records: dict) -> dict:
    return {n: r['num_train_samples'] for n, r in records.items() if 'num_train_samples' in r}


def _short(faces, work, **kw):
    """A job without per-round evaluation or last-round relabelling (fewer stages)."""
    return tiny_cfg(faces, work, eval_each_round=False, relabel_last_round=False, **kw)


def test_tf_job_trains_the_lp_shrink_output_in_round_2(faces, tmp_path):
    work = tmp_path / 'work'
    records = SelfTrainingRunner(_short(faces, work, head='tf', num_rounds=2)).train()
    assert list(records) == [
        'round0_supervised', 'round0_pseudo_label', 'round1_pseudo_pretrain', 'round1_mixed',
        'round1_pseudo_label', 'round2_pseudo_pretrain', 'round2_mixed', 'round2_eval']
    # round 2 (= T): lambda 1, p_2 = 2.4 (the curriculum's first value) != 1 -> shrink output
    assert records['round2_mixed']['setup']['head'] == dict(
        pseudo_loss_weight=1.0, shrink_branch=True, shrink_p=2.4)
    assert records['round1_mixed']['setup']['head'] == {}
    assert 'loss_kpt_pseudo' in _stage_log(work, 'round2_mixed')
    assert 'loss_kpt_pseudo' not in _stage_log(work, 'round1_mixed')
    n_unl = _n_unlabeled(faces)
    assert _samples(records) == dict(
        round0_supervised=N_LAB, round1_pseudo_pretrain=n_unl, round1_mixed=N_LAB,
        round2_pseudo_pretrain=n_unl, round2_mixed=N_LAB + n_unl)
    for name in ('round0_pseudo_label', 'round1_pseudo_label'):
        anns = json.loads(Path(records[name]['pseudo_file']).read_text())['annotations']
        assert len(anns) == n_unl and all(len(a['keypoints']) == 68 * 3 for a in anns)
    assert set(records['round2_eval']['metrics']) == {'NME', 'AUC@0.1', 'FR@0.1'}


def test_labeled_set_is_oversampled_to_labeled_min_size_in_labeled_stages(faces, tmp_path):
    records = SelfTrainingRunner(_short(faces, tmp_path / 'work', num_rounds=1,
                                        labeled_min_size=5)).train()
    # 2 labeled images repeated ceil(5 / 2) = 3 times; the pseudo-labels are not repeated
    assert _samples(records) == dict(round0_supervised=3 * N_LAB,
                                     round1_pseudo_pretrain=_n_unlabeled(faces),
                                     round1_mixed=3 * N_LAB)


def test_pseudo_flip_test_labels_with_flip_and_evaluates_without(faces, tmp_path):
    cfg = _short(faces, tmp_path / 'work', num_rounds=1, pseudo_flip_test=True)
    runner = SelfTrainingRunner(cfg)
    flips = {}
    execute = runner._execute

    def spy(stage, stage_cfg, *args):
        flips[stage.name] = stage_cfg.model.test_cfg.get('flip_test')
        return execute(stage, stage_cfg, *args)

    runner._execute = spy
    records = runner.train()
    assert flips == dict(round0_supervised=False, round0_pseudo_label=True,
                         round1_pseudo_pretrain=False, round1_mixed=False, round1_eval=False)
    # the same weights without flip test give other pseudo-labels: the flip was applied
    label = next(s for s in runner.stages if s.name == 'round0_pseudo_label')
    runner.settings['pseudo_flip_test'] = False
    plain = execute(label, runner._label_cfg(label, str(tmp_path / 'no_flip')))

    def keypoints(path):
        anns = json.loads(Path(path).read_text())['annotations']
        return np.array([a['keypoints'] for a in sorted(anns, key=lambda a: a['id'])])

    flipped, unflipped = keypoints(records[label.name]['pseudo_file']), keypoints(
        plain['pseudo_file'])
    assert flipped.shape == unflipped.shape and not np.allclose(flipped, unflipped)


def test_selection_round_without_surviving_pseudo_labels_trains_on_labeled_only(faces,
                                                                               tmp_path):
    work = tmp_path / 'work'
    cfg = _short(faces, work, num_rounds=1, mode='selection', curriculum=None,
                 score_thr=10.0)  # heatmap maxima never reach 10
    records = SelfTrainingRunner(cfg).train()
    label = records['round0_pseudo_label']
    assert label['metrics']['pseudo/num_labels'] == 0
    assert json.loads(Path(label['pseudo_file']).read_text())['annotations'] == []
    assert records['round1_self_train']['num_train_samples'] == N_LAB
    log = ''.join(p.read_text() for p in work.glob('self_training_*.log'))
    assert '[round1_self_train] no pseudo-label survived selection' in log


def test_shrink_only_trains_fresh_models_with_the_shrink_output_and_no_pretraining(
        faces, tmp_path):
    work = tmp_path / 'work'
    records = SelfTrainingRunner(_short(faces, work, num_rounds=2,
                                        mode='shrink_only')).train()
    assert list(records) == ['round0_supervised', 'round0_pseudo_label', 'round2_mixed',
                             'round2_eval']
    setup = records['round2_mixed']['setup']
    assert setup['load_from'] is None  # fresh (ImageNet) init, not a pretrained model
    assert setup['head'] == dict(pseudo_loss_weight=1.0, shrink_branch=True)  # sigma 2.2
    assert records['round2_mixed']['num_train_samples'] == N_LAB + _n_unlabeled(faces)
    assert 'loss_kpt_pseudo' in _stage_log(work, 'round2_mixed')


def test_pseudo_pretrain_only_never_trains_pseudo_labels_with_ground_truth(faces, tmp_path):
    work = tmp_path / 'work'
    records = SelfTrainingRunner(_short(faces, work, num_rounds=2, mode='pseudo_pretrain_only',
                                        curriculum=None)).train()
    n_unl = _n_unlabeled(faces)
    assert _samples(records) == dict(
        round0_supervised=N_LAB, round1_pseudo_pretrain=n_unl, round1_mixed=N_LAB,
        round2_pseudo_pretrain=n_unl, round2_mixed=N_LAB)
    for t in (1, 2):
        setup = records[f'round{t}_mixed']['setup']
        assert setup['load_from'] == records[f'round{t}_pseudo_pretrain']['weights']
        assert setup['head'] == {}
        assert 'loss_kpt_pseudo' not in _stage_log(work, f'round{t}_mixed')
    assert records['round2_pseudo_pretrain']['setup']['load_from'] == records[
        'round1_pseudo_pretrain']['weights']


def test_weighted_naive_baseline_weighs_pseudo_labels_through_the_main_output(faces,
                                                                             tmp_path):
    work = tmp_path / 'work'
    records = SelfTrainingRunner(_short(faces, work, head='tf', num_rounds=2, mode='naive',
                                        curriculum=None,
                                        pseudo_loss_weights=[0.1, 1.0])).train()
    n_unl = _n_unlabeled(faces)
    for t, lam in ((1, 0.1), (2, 1.0)):
        rec = records[f'round{t}_self_train']
        assert rec['setup']['load_from'] is None  # a fresh model every round
        assert rec['setup']['head'] == dict(pseudo_loss_weight=lam, shrink_branch=False)
        assert rec['num_train_samples'] == N_LAB + n_unl
        log = _stage_log(work, f'round{t}_self_train')
        assert 'loss_kpt_pseudo' not in log  # standard regression, main output
        fracs = [float(v) for v in re.findall(r'pseudo_frac: ([\d.]+)', log)]
        assert fracs and max(fracs) > 0  # the pseudo-labeled samples are tagged


def test_pseudo_loss_weights_need_a_head_that_weighs_samples(faces, tmp_path):
    cfg = _short(faces, tmp_path / 'work', num_rounds=2, mode='naive', curriculum=None,
                 pseudo_loss_weights=[0.1, 1.0])
    cfg.model.head.type = 'HeatmapHead'
    with pytest.raises(ValueError, match='pseudo_loss_weights needs a head that weighs'):
        SelfTrainingRunner(cfg)
