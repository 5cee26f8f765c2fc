"""The paper-vs-release switches of STLD's last rounds and the reuse of shared stages.

(a) ``standard_pseudo_output``: pseudo-labels at sigma_std (p = 1) merge into the main output
(paper's text) or keep the shrink output (release HM); (b) ``pseudo_loss_weight_index``:
lambda of round t or of round t + 1 (release); (c) ``last_round_oversample``; ``protocol``
sets all three; ``reuse_stages_from`` lets an arm start from another arm's common stages.
"""
import copy
import json
import os
import re
from pathlib import Path

import pytest
import torch

from mmssl.engine.runners import SelfTrainingRunner
from mmssl.engine.runners.self_training_checks import (SPEC_ONLY_SETTINGS,
                                                       protocol_switches, resolve_protocol)
from mmssl.engine.runners.self_training_plan import (build_plan, spec_matches,
                                                     trains_shrink_output)
from mmssl.engine.runners.self_training_state import SelfTrainingState
from mmssl.engine.runners.self_training_utils import config_digest
from stld_helpers import make_face_data, single_thread, tiny_cfg  # noqa: F401

HM = [2.2, 1.8, 1.5]


@pytest.fixture(scope='module')
def faces(tmp_path_factory):
    return make_face_data(tmp_path_factory.mktemp('faces'), num_train=7, num_labeled=2)


def _mixed(plan):
    return {s.round: s for s in plan if s.kind == 'train' and s.data == 'mixed'}


# ---------------------------------------------------------------- the plan
def test_release_lambda_index_reads_lambda_one_round_ahead():
    paper, release = (build_plan('stld', 4, HM, pseudo_loss_weight_index=i)
                      for i in ('paper', 'release'))
    assert [s.pseudo_weight for s in _mixed(paper).values()] == [0.1, 0.1, 1.0]
    assert [s.pseudo_weight for s in _mixed(release).values()] == [0.1, 1.0, 1.0]
    # only round 3's lambda differs; sigma stays indexed by the labels' round
    changed = [a.name for a, b in zip(paper, release) if a != b]
    assert changed == ['round3_mixed']
    assert [s.shrink_value for s in _mixed(release).values()] == HM
    given = build_plan('stld', 4, HM, pseudo_weights=[0.2, 0.5, 0.9],
                       pseudo_loss_weight_index='release')
    assert [s.pseudo_weight for s in _mixed(given).values()] == [0.5, 0.9, 0.9]
    assert _mixed(build_plan('stld', 2, [1.5], pseudo_loss_weight_index='release'))[
        2].pseudo_weight == 1.0


@pytest.mark.parametrize('curriculum, standard, marked', [
    (HM, 1.5, [4]),  # the paper's: only the last round is at sigma_std
    ([1.5, 1.5, 1.5], 1.5, [2, 3, 4]),  # Fig. 13's flat curriculum: every round
    ([2.4, 1.6, 1.0], 1.0, [4]),  # TF: p_T = 1
])
def test_shrink_output_at_standard_marks_exactly_the_rounds_at_standard(curriculum, standard,
                                                                       marked):
    default = _mixed(build_plan('stld', 4, curriculum, standard_value=standard))
    shrink = _mixed(build_plan('stld', 4, curriculum, standard_value=standard,
                               standard_pseudo_output='shrink'))
    assert [t for t, s in shrink.items() if s.shrink_at_standard] == marked
    assert not any(s.shrink_at_standard for s in default.values())
    assert all(trains_shrink_output(s, standard) for s in shrink.values())
    assert [t for t, s in default.items() if trains_shrink_output(s, standard)] == [
        t for t in (2, 3, 4) if t not in marked]


def test_last_round_without_oversampling_marks_only_its_labeled_stages():
    plan = build_plan('stld', 4, HM, last_round_oversample=False)
    assert [s.name for s in plan if not s.labeled_oversample] == ['round4_mixed']
    for mode, name in (('pseudo_pretrain_only', 'round2_mixed'),
                       ('naive', 'round2_self_train')):
        plan = build_plan(mode, 2, last_round_oversample=False)
        assert [s.name for s in plan if not s.labeled_oversample] == [name]


@pytest.mark.parametrize('kwargs, message', [
    (dict(standard_pseudo_output='merge'), "standard_pseudo_output must be one of"),
    (dict(pseudo_loss_weight_index='round'), 'pseudo_loss_weight_index must be one of'),
    (dict(last_round_oversample='no'), 'last_round_oversample must be True or False'),
    (dict(standard_pseudo_output='shrink'), 'needs the ground truth'),
    (dict(mode='naive', curriculum=None, pseudo_loss_weight_index='release'),
     'only changes the shrink rounds'),
])
def test_bad_switches_are_named(kwargs, message):
    args = dict(mode='stld', num_rounds=4, curriculum=HM)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        build_plan(**args)


def test_records_written_before_the_switches_existed_still_match():
    stage = _mixed(build_plan('stld', 4, HM))[4]
    old = {k: v for k, v in stage.spec().items()
           if k not in ('shrink_at_standard', 'labeled_oversample')}
    assert spec_matches(stage, old) and spec_matches(stage, stage.spec())
    merged = _mixed(build_plan('stld', 4, HM, last_round_oversample=False))[4]
    assert not spec_matches(merged, old) and not spec_matches(stage, None)


# ---------------------------------------------------------------- protocol preset
def test_protocol_sets_the_switches_and_explicit_ones_override():
    assert protocol_switches('paper', 'heatmap_sigma') == dict(
        standard_pseudo_output='main', pseudo_loss_weight_index='paper',
        last_round_oversample=True)
    assert protocol_switches('release', 'heatmap_sigma') == dict(
        standard_pseudo_output='shrink', pseudo_loss_weight_index='release',
        last_round_oversample=False)
    # the release's coordinate model merges at p = 1 (ImageFolder_tf)
    assert protocol_switches('release', 'lp')['standard_pseudo_output'] == 'main'
    base = dict(mode='stld', protocol='release', standard_pseudo_output=None,
                pseudo_loss_weight_index=None, last_round_oversample=True)
    resolved = resolve_protocol(base, 'heatmap_sigma')
    assert (resolved['standard_pseudo_output'], resolved['last_round_oversample']) == (
        'shrink', True)
    with pytest.raises(ValueError, match='protocol must be one of'):
        resolve_protocol(dict(base, protocol='code'), 'heatmap_sigma')
    with pytest.raises(ValueError, match="describes the release's STLD loop"):
        resolve_protocol(dict(base, mode='naive'), 'heatmap_sigma')


def test_measured_protocol_is_the_paper_with_the_release_output_for_heatmaps():
    paper = protocol_switches('paper', 'heatmap_sigma')
    assert protocol_switches('measured', 'heatmap_sigma') == dict(
        paper, standard_pseudo_output='shrink')
    # coordinate heads: the release merges at p = 1 too, so nothing differs from the paper
    assert protocol_switches('measured', 'lp') == protocol_switches('paper', 'lp')
    base = dict(mode='stld', protocol='measured', standard_pseudo_output=None,
                pseudo_loss_weight_index=None, last_round_oversample=None)
    assert resolve_protocol(base, 'heatmap_sigma')['standard_pseudo_output'] == 'shrink'
    # the baselines have no shrink rounds: the default resolves to the paper's text for them
    for mode in ('naive', 'selection', 'pseudo_pretrain_only'):
        assert {k: v for k, v in resolve_protocol(dict(base, mode=mode), 'heatmap_sigma')
                .items() if k in paper} == paper


# ---------------------------------------------------------------- built stage configs
def _runner(faces, work, head='hm', **self_training):
    return SelfTrainingRunner(tiny_cfg(faces, work, head=head, num_rounds=4,
                                       labeled_min_size=5, **self_training))


def _head(runner, name):
    stage = next(s for s in runner.stages if s.name == name)
    cfg = copy.deepcopy(runner.cfg)
    runner._set_head_shrink(cfg, stage)
    return {k: cfg.model.head[k] for k in ('pseudo_loss_weight', 'shrink_branch')}


@pytest.mark.parametrize('head, settings, expected', [
    # the default ('measured'): the paper's lambdas, round T's pseudo-labels on the second
    # output (HM); TF merges them at p = 1
    ('hm', dict(), [(0.1, True), (0.1, True), (1.0, True)]),
    ('tf', dict(), [(0.1, True), (0.1, True), (1.0, False)]),
    ('hm', dict(protocol='paper'), [(0.1, True), (0.1, True), (1.0, False)]),  # merged at T
    ('hm', dict(protocol='release'), [(0.1, True), (1.0, True), (1.0, True)]),
    ('hm', dict(protocol='paper', standard_pseudo_output='shrink'),
     [(0.1, True), (0.1, True), (1.0, True)]),
    ('hm', dict(protocol='paper', pseudo_loss_weight_index='release'),
     [(0.1, True), (1.0, True), (1.0, False)]),
    ('hm', dict(protocol='release', standard_pseudo_output='main'),
     [(0.1, True), (1.0, True), (1.0, False)]),
    ('tf', dict(protocol='release'), [(0.1, True), (1.0, True), (1.0, False)]),
])
def test_head_of_each_mixed_stage_follows_the_switches(faces, tmp_path, head, settings,
                                                      expected):
    runner = _runner(faces, tmp_path / 'work', head=head, **settings)
    got = [_head(runner, f'round{t}_mixed') for t in (2, 3, 4)]
    assert got == [dict(pseudo_loss_weight=w, shrink_branch=b) for w, b in expected]


@pytest.mark.parametrize('oversample, times', [(True, 3), (False, None)])
def test_last_round_dataset_wraps_the_labeled_part_only_when_oversampling(
        faces, tmp_path, oversample, times):
    runner = _runner(faces, tmp_path / 'work', last_round_oversample=oversample)
    runner.completed = dict(
        round2_pseudo_label=dict(pseudo_file=faces['unlabeled'], metrics={}),
        round3_pseudo_label=dict(pseudo_file=faces['unlabeled'], metrics={}),
        round4_pseudo_pretrain=dict(weights='pretrain.pth'),
        round3_pseudo_pretrain=dict(weights='pretrain3.pth'))
    stages = {s.name: s for s in runner.stages}
    last = runner._train_cfg(stages['round4_mixed'], str(tmp_path / 'r4'))
    labeled, pseudo = last.train_dataloader.dataset.datasets
    assert labeled.get('type') == ('RepeatDataset' if oversample else 'Face300WDataset')
    assert labeled.get('times') == times
    assert pseudo['ann_file'] == os.path.abspath(faces['unlabeled'])
    earlier = runner._train_cfg(stages['round3_mixed'], str(tmp_path / 'r3'))
    assert earlier.train_dataloader.dataset.datasets[0]['type'] == 'RepeatDataset'


# ---------------------------------------------------------------- reuse of shared stages
def _fake_state(runner, work: Path) -> None:
    """Record every stage of ``runner``'s plan as completed in ``work`` (dummy outputs)."""
    state = SelfTrainingState(str(work))
    for stage in runner.stages:
        out = work / stage.name / ('w.pth' if stage.kind == 'train' else 'labels.json')
        out.parent.mkdir(parents=True)
        out.write_text('x')
        key = {'train': 'weights', 'label': 'pseudo_file'}.get(stage.kind)
        state.completed[stage.name] = dict(spec=stage.spec(), metrics={'NME': 0.1},
                                           **({key: str(out)} if key else {}))
    state.data['reuse_digest'] = config_digest(runner.cfg, SPEC_ONLY_SETTINGS)
    state.save()


def test_reuse_adopts_the_stages_whose_spec_and_inputs_agree(faces, tmp_path):
    paper = SelfTrainingRunner(tiny_cfg(faces, tmp_path / 'paper', num_rounds=3,
                                        curriculum=[1.8, 1.5], protocol='paper'))
    _fake_state(paper, tmp_path / 'paper')
    release = SelfTrainingRunner(tiny_cfg(faces, tmp_path / 'release', num_rounds=3,
                                          curriculum=[1.8, 1.5], protocol='release',
                                          reuse_stages_from=str(tmp_path / 'paper')))
    release._load_state()
    # lambda of round 2 is 1 (release) vs 0.1: round2_mixed and all after it are retrained,
    # round3_pseudo_pretrain too (same spec, but it reads round 2's new pseudo-labels)
    assert list(release.completed) == [
        'round0_supervised', 'round0_eval', 'round0_pseudo_label', 'round1_pseudo_pretrain',
        'round1_mixed', 'round1_eval', 'round1_pseudo_label', 'round2_pseudo_pretrain']
    record = release.completed['round2_pseudo_pretrain']
    assert record['reused_from'] == str(tmp_path / 'paper')
    assert record['weights'] == str(tmp_path / 'paper/round2_pseudo_pretrain/w.pth')
    on_disk = json.loads((tmp_path / 'release/self_training_state.json').read_text())
    assert list(on_disk['completed']) == list(release.completed)


def test_reuse_is_refused_across_configs_that_train_differently(faces, tmp_path):
    paper = SelfTrainingRunner(tiny_cfg(faces, tmp_path / 'paper', num_rounds=2))
    _fake_state(paper, tmp_path / 'paper')
    other = SelfTrainingRunner(tiny_cfg(faces, tmp_path / 'b', num_rounds=2,
                                        labeled_min_size=5,  # not recorded in the specs
                                        reuse_stages_from=str(tmp_path / 'paper')))
    with pytest.raises(ValueError, match='differs from this one beyond the settings'):
        other._load_state()
    missing = SelfTrainingRunner(tiny_cfg(faces, tmp_path / 'c', num_rounds=2,
                                          reuse_stages_from=str(tmp_path / 'nowhere')))
    with pytest.raises(FileNotFoundError, match='no self_training_state.json'):
        missing._load_state()


def _stage_log(work: Path, stage: str) -> str:
    return ''.join(p.read_text() for p in (work / stage).glob('*/*.log'))


def test_release_arm_reuses_the_paper_arm_and_trains_its_last_round_as_the_release(
        faces, tmp_path):
    """Real runs (T = 2, sigma_2 = sigma_std = 1.5): the paper arm merges the last round's
    pseudo-labels into the main output over the oversampled labeled set; the release arm
    starts from the paper arm's stages and trains only the last round, on the shrink output
    over the original labeled set."""
    common = dict(num_rounds=2, curriculum=[1.5], labeled_min_size=5)
    paper_dir, release_dir = tmp_path / 'paper', tmp_path / 'release'
    paper = SelfTrainingRunner(tiny_cfg(faces, paper_dir, protocol='paper', **common)).train()
    runner = SelfTrainingRunner(tiny_cfg(faces, release_dir, protocol='release',
                                         reuse_stages_from=str(paper_dir), **common))
    ran = []
    run_stage = runner._run_stage
    runner._run_stage = lambda stage: ran.append(stage.name) or run_stage(stage)
    release = runner.train()
    assert ran == ['round2_mixed', 'round2_eval', 'round2_pseudo_label']
    n_unl = len(json.loads(Path(faces['unlabeled']).read_text())['annotations'])
    assert paper['round2_mixed']['num_train_samples'] == 3 * 2 + n_unl  # 2 labeled x 3
    assert release['round2_mixed']['num_train_samples'] == 2 + n_unl
    assert paper['round2_mixed']['setup']['head'] == dict(pseudo_loss_weight=1.0,
                                                          shrink_branch=False)
    assert release['round2_mixed']['setup']['head'] == dict(pseudo_loss_weight=1.0,
                                                            shrink_branch=True)
    assert 'loss_kpt_pseudo' not in _stage_log(paper_dir, 'round2_mixed')
    assert 'loss_kpt_pseudo' in _stage_log(release_dir, 'round2_mixed')
    assert release['round2_mixed']['setup']['load_from'] == paper[
        'round2_pseudo_pretrain']['weights']
    assert release['round1_eval']['metrics'] == paper['round1_eval']['metrics']
    assert release['round2_eval']['metrics'] != paper['round2_eval']['metrics']
    final = torch.load(release_dir / 'final_model.pth', map_location='cpu')
    assert final['meta']['stage'] == 'round2_mixed'
    assert str(release_dir) in release['round2_mixed']['weights']
    log = ''.join(p.read_text() for p in release_dir.glob('self_training_*.log'))
    assert re.search(r'reusing 8 completed stages of .*paper', log)
