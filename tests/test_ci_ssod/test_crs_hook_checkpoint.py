"""CrSRefreshHook checkpoints the sampler's streams and a resumed run continues them."""
import io
import os.path as osp
from itertools import islice
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmdet.registry import DATASETS
from mmengine.dataset import ConcatDataset
from mmengine.logging import MessageHub
from mmengine.registry import init_default_scope

from mmssl.datasets.class_rebalancing_sampler import ClassRebalancingSampler
from mmssl.engine.hooks.ci_ssod_crs_hook import CrSRefreshHook


@pytest.fixture(scope='module')
def concat(ci_data_dir):
    init_default_scope('mmdet')
    root = osp.join(ci_data_dir, 'ci_ssod_synthetic')
    classes = ('circle', 'square', 'triangle', 'diamond', 'cross', 'ring')
    return ConcatDataset([
        DATASETS.build(
            dict(type='CocoDataset', data_root=root, ann_file=f'annotations/{ann}.json',
                 data_prefix=dict(img='images/'), metainfo=dict(classes=classes),
                 filter_cfg=dict(filter_empty_gt=False), pipeline=[]))
        for ann in ('train_labeled', 'train_unlabeled')
    ])


def _runner(sampler, it=8):
    model = SimpleNamespace(record_pseudo_labels=False, pop_pseudo_label_records=lambda: [])
    return SimpleNamespace(model=model, train_dataloader=SimpleNamespace(sampler=sampler),
                           iter=it, max_iters=100, message_hub=MessageHub.get_current_instance())


def _checkpoint(hook, runner):
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)  # what mmssl's safe loading accepts


def test_resumed_hook_restores_the_sampler_streams(concat):
    sampler = ClassRebalancingSampler(concat, batch_size=3, source_ratio=[1, 2], seed=3)
    hook = CrSRefreshHook(interval=4, lam=8.0)
    runner = _runner(sampler)
    it = iter(sampler)
    list(islice(it, 3 * 5))
    unl = concat.datasets[1]
    hook.store = {unl.get_data_info(0)['img_id']: (np.array([5]), np.array([0.5]))}
    hook._refresh(runner)  # the refresh of iteration 8, then the checkpoint of iteration 8
    checkpoint = _checkpoint(hook, runner)
    expected = list(islice(it, 3 * 6))

    resumed = ClassRebalancingSampler(concat, batch_size=3, source_ratio=[1, 2], seed=77)
    hook2 = CrSRefreshHook(interval=4, lam=8.0)
    runner2 = _runner(resumed)
    hook2.after_load_checkpoint(runner2, checkpoint)
    hook2.before_train(runner2)
    assert resumed.seed == 3
    assert torch.equal(resumed.repeat_factors[1], sampler.repeat_factors[1])
    it2 = iter(resumed)
    list(islice(it2, 3 * 5))  # mmengine re-reads the trained iterations
    assert list(islice(it2, 3 * 6)) == expected


def test_checkpoint_without_sampler_state_refreshes_from_the_store(concat):
    sampler = ClassRebalancingSampler(concat, batch_size=3, source_ratio=[1, 2], seed=3)
    hook = CrSRefreshHook(interval=4, lam=8.0)
    runner = _runner(sampler)
    unl = concat.datasets[1]
    hook.store = {unl.get_data_info(0)['img_id']: (np.array([5]), np.array([0.5]))}
    checkpoint = _checkpoint(hook, runner)
    del checkpoint['ci_ssod_crs']['sampler']  # written before the sampler had a state
    hook2 = CrSRefreshHook(interval=4, lam=8.0)
    resumed = ClassRebalancingSampler(concat, batch_size=3, source_ratio=[1, 2], seed=3)
    hook2.after_load_checkpoint(_runner(resumed), checkpoint)
    hook2.before_train(_runner(resumed))
    assert resumed._versions[1] == 1  # refreshed (factors recomputed from the store)
    assert np.array_equal(hook2.last_factors, resumed.repeat_factors[1].numpy())
