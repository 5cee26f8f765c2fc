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


@pytest.mark.parametrize('kwargs, message', [
    (dict(mode='stld', num_rounds=4, curriculum=[2.2, 1.5]), 'num_rounds - 1 = 3 values'),
    (dict(mode='stld', num_rounds=2), 'curriculum must list'),
    (dict(mode='stld', num_rounds=3, curriculum=[2, 1.5], pseudo_weights=[1]),
     'pseudo_loss_weights'),
    (dict(mode='naive', num_rounds=2, curriculum=[2.2]), 'only used by mode="stld"'),
    (dict(mode='selection', num_rounds=2), 'score_thr'),
    (dict(mode='fixmatch', num_rounds=2), 'mode must be one of'),
    (dict(mode='naive', num_rounds=0), 'integer >= 1'),
])
def test_invalid_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_plan(**kwargs)
