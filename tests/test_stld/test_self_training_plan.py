"""The stage plan of Algorithm 1 (and the baselines), as a pure function of the settings."""
import pytest

from mmssl.engine.runners.self_training_plan import (build_plan, default_pseudo_weights,
                                                     final_train_stage)
from stld_helpers import single_thread  # noqa: F401


def test_stld_plan_for_four_rounds_follows_algorithm_1():
    plan = build_plan('stld', 4, curriculum=[2.2, 1.8, 1.5])
    train = {s.name: s for s in plan if s.kind == 'train'}
    assert list(train) == ['round0_supervised'] + [
        f'round{t}_{k}' for t in range(1, 5) for k in ('pseudo_pretrain', 'mixed')]
    # pseudo pretraining: t = 1 from the config's (ImageNet) init, full schedule;
    # t >= 2 from the previous round's pretrain, 1/5 of the schedule
    assert train['round1_pseudo_pretrain'].init == ''
    assert train['round1_pseudo_pretrain'].schedule_scale == 1.0
    for t in (2, 3, 4):
        pre = train[f'round{t}_pseudo_pretrain']
        assert pre.init == f'round{t - 1}_pseudo_pretrain' and pre.schedule_scale == 0.2
        assert pre.pseudo_from == f'round{t - 1}_pseudo_label' and pre.data == 'pseudo'
    # mixed training starts from this round's pretrain; t = 1 is labeled only
    assert train['round1_mixed'].data == 'labeled' and not train['round1_mixed'].source_aware
    for t, sigma, lam in ((2, 2.2, 0.1), (3, 1.8, 0.1), (4, 1.5, 1.0)):
        mixed = train[f'round{t}_mixed']
        assert mixed.init == f'round{t}_pseudo_pretrain' and mixed.data == 'mixed'
        assert (mixed.shrink_value, mixed.pseudo_weight, mixed.source_aware) == (sigma, lam,
                                                                                True)
    labels = [s for s in plan if s.kind == 'label']
    assert [s.model_from for s in labels] == ['round0_supervised'] + [
        f'round{t}_mixed' for t in range(1, 5)]
    assert final_train_stage(plan).name == 'round4_mixed'
    assert [s.name for s in plan if s.kind == 'eval'] == [f'round{t}_eval' for t in range(5)]


def test_default_lambda_rule():
    assert default_pseudo_weights(4) == [0.1, 0.1, 1.0]
    assert default_pseudo_weights(2) == [1.0]


def test_baselines_train_fresh_models_on_all_data_each_round():
    naive = build_plan('naive', 2, eval_each_round=False, relabel_last_round=False)
    assert [s.name for s in naive] == [
        'round0_supervised', 'round0_pseudo_label', 'round1_self_train',
        'round1_pseudo_label', 'round2_self_train', 'round2_eval']
    rounds = [s for s in naive if s.name.endswith('self_train')]
    assert all(s.init == '' and s.data == 'mixed' and not s.source_aware for s in rounds)
    sel = build_plan('selection', 1, score_thr=0.4)
    assert {s.score_thr for s in sel if s.kind == 'label'} == {0.4}


def _train(plan):
    return {s.name: s for s in plan if s.kind == 'train'}


def test_pseudo_pretrain_only_pretrains_every_round_and_never_mixes_pseudo_labels():
    plan = build_plan('pseudo_pretrain_only', 4)
    train = _train(plan)
    assert list(train) == ['round0_supervised'] + [
        f'round{t}_{k}' for t in range(1, 5) for k in ('pseudo_pretrain', 'mixed')]
    stld = _train(build_plan('stld', 4, curriculum=[2.2, 1.8, 1.5]))
    for t in range(1, 5):  # the pretraining of STLD, unchanged (init chain, 1/5 schedule)
        assert train[f'round{t}_pseudo_pretrain'] == stld[f'round{t}_pseudo_pretrain']
        mixed = train[f'round{t}_mixed']  # = STLD's round-1 mixed stage, every round
        assert (mixed.data, mixed.init, mixed.source_aware) == (
            'labeled', f'round{t}_pseudo_pretrain', False)
        assert mixed.pseudo_from == '' and mixed.shrink_value is None
    assert [s.model_from for s in plan if s.kind == 'label'] == ['round0_supervised'] + [
        f'round{t}_mixed' for t in range(1, 5)]


def test_shrink_only_trains_fresh_mixed_models_with_the_curriculum_and_no_pretraining():
    plan = build_plan('shrink_only', 4, curriculum=[2.2, 1.8, 1.5])
    train = _train(plan)
    # round 1 would be supervised training again (no pretraining): not run
    assert list(train) == ['round0_supervised', 'round2_mixed', 'round3_mixed', 'round4_mixed']
    assert not any(s.kind == 'train' and 'pretrain' in s.name for s in plan)
    stld = _train(build_plan('stld', 4, curriculum=[2.2, 1.8, 1.5]))
    sources = ['round0_pseudo_label', 'round2_pseudo_label', 'round3_pseudo_label']
    for t, source in zip((2, 3, 4), sources):
        mixed = train[f'round{t}_mixed']
        assert mixed.init == '' and mixed.pseudo_from == source  # fresh model each round
        ref = stld[f'round{t}_mixed']  # STLD's shrink stage, but not pretrained
        assert (mixed.data, mixed.source_aware, mixed.shrink_value, mixed.pseudo_weight) == (
            ref.data, ref.source_aware, ref.shrink_value, ref.pseudo_weight)
        assert mixed.schedule_scale == 1.0
    assert final_train_stage(plan).name == 'round4_mixed'


def test_weighted_naive_baseline_has_one_lambda_per_round_and_standard_regression():
    warm = [0.1, 0.4, 0.7, 1.0]  # the paper's linear warm-up (Fig. 9)
    rounds = [s for s in build_plan('naive', 4, pseudo_weights=warm) if s.kind == 'train'][1:]
    assert [s.name for s in rounds] == [f'round{t}_self_train' for t in range(1, 5)]
    assert [s.pseudo_weight for s in rounds] == warm
    # tagged pseudo so the head weighs them, at the ground truth's granularity (None)
    assert all(s.source_aware and s.shrink_value is None and s.init == '' and
               s.data == 'mixed' for s in rounds)
    plain = [s for s in build_plan('naive', 4) if s.kind == 'train'][1:]
    assert all(not s.source_aware and s.pseudo_weight == 1.0 for s in plain)


@pytest.mark.parametrize('kwargs, message', [
    (dict(mode='stld', num_rounds=4, curriculum=[2.2, 1.5]), 'num_rounds - 1 = 3 values'),
    (dict(mode='stld', num_rounds=2), 'curriculum must list'),
    (dict(mode='stld', num_rounds=3, curriculum=[2, 1.5], pseudo_weights=[1]),
     'pseudo_loss_weights'),
    (dict(mode='naive', num_rounds=2, curriculum=[2.2]), 'only used by the modes'),
    (dict(mode='pseudo_pretrain_only', num_rounds=2, curriculum=[2.2]),
     'only used by the modes'),
    (dict(mode='pseudo_pretrain_only', num_rounds=2, pseudo_weights=[1.0]),
     'not used by mode="pseudo_pretrain_only"'),
    (dict(mode='shrink_only', num_rounds=1, curriculum=[]), 'num_rounds >= 2'),
    (dict(mode='shrink_only', num_rounds=3, curriculum=[2.2]), 'curriculum must list'),
    (dict(mode='naive', num_rounds=4, pseudo_weights=[0.1, 0.1, 1.0]),
     'num_rounds = 4 values'),
    (dict(mode='selection', num_rounds=2), 'score_thr'),
    (dict(mode='fixmatch', num_rounds=2), 'mode must be one of'),
    (dict(mode='naive', num_rounds=0), 'integer >= 1'),
])
def test_invalid_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_plan(**kwargs)
