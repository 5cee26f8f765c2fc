"""Stage-config helpers: the 1/5 "speed up" schedule for epoch- and iteration-based loops."""
import pytest
from mmengine.config import Config

from mmssl.engine.runners.self_training_configs import (oversampled, scale_schedule,
                                                        with_target_sigma)
from stld_helpers import single_thread  # noqa: F401


def test_epoch_schedule_scales_epochs_and_milestones_not_iteration_warmup():
    cfg = Config(dict(
        train_cfg=dict(by_epoch=True, max_epochs=60, val_interval=10),
        param_scheduler=[
            dict(type='LinearLR', begin=0, end=500, by_epoch=False),
            dict(type='MultiStepLR', begin=0, end=60, milestones=[40, 50], by_epoch=True)]))
    scale_schedule(cfg, 1 / 5)
    assert cfg.train_cfg.max_epochs == 12 and cfg.train_cfg.val_interval == 10
    assert cfg.param_scheduler[0].end == 500  # iteration warm-up kept
    assert cfg.param_scheduler[1].end == 12 and cfg.param_scheduler[1].milestones == [8, 10]


def test_iteration_schedule_scales_iterations():
    cfg = Config(dict(
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=1000, val_interval=500),
        param_scheduler=[
            dict(type='MultiStepLR', milestones=[600, 800], by_epoch=False),
            dict(type='CosineAnnealingLR', begin=0, T_max=1000, by_epoch=False)]))
    scale_schedule(cfg, 1 / 5)
    assert cfg.train_cfg.max_iters == 200 and cfg.train_cfg.val_interval == 200
    assert cfg.param_scheduler[0].milestones == [120, 160]
    assert cfg.param_scheduler[1].T_max == 200
    tiny = Config(dict(train_cfg=dict(by_epoch=True, max_epochs=2)))
    scale_schedule(tiny, 1 / 5)
    assert tiny.train_cfg.max_epochs == 1  # never below one epoch
    with pytest.raises(ValueError, match='no max_iters'):
        scale_schedule(Config(dict(train_cfg=dict(type='IterBasedTrainLoop'))), 0.5)


def test_oversampling_and_target_sigma():
    ds = dict(type='Face300WDataset', ann_file='a.json')
    assert oversampled(ds, 30, 100) == dict(type='RepeatDataset', times=4, dataset=ds)
    assert oversampled(ds, 150, 100) is ds and oversampled(ds, 30, 0) is ds
    pipeline = [dict(type='GenerateTarget', encoder=dict(type='MSRAHeatmap', sigma=1.5))]
    assert with_target_sigma(pipeline, 2.2)[0]['encoder']['sigma'] == 2.2
    assert pipeline[0]['encoder']['sigma'] == 1.5  # the original is untouched
    with pytest.raises(ValueError, match='exactly one GenerateTarget'):
        with_target_sigma([], 2.2)
