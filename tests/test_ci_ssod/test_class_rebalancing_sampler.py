"""CrS / RFS repeat factors (hand computations) and ClassRebalancingSampler behaviour."""
import math
import os.path as osp
from collections import Counter
from itertools import islice

import numpy as np
import pytest
from mmdet.registry import DATASETS
from mmengine.dataset import ConcatDataset
from mmengine.registry import init_default_scope

from mmssl.datasets.class_rebalancing_sampler import (ClassRebalancingSampler,
                                                      crs_repeat_factors, rfs_repeat_factors)


def test_rfs_factors_by_hand():
    factors = rfs_repeat_factors([[0], [0, 1, 1], [2], []], num_classes=3, thr=0.5)
    # f = [2/4, 1/4, 1/4] -> r(c) = [1, sqrt(2), sqrt(2)]
    assert factors.tolist() == pytest.approx([1.0, math.sqrt(2), math.sqrt(2), 1.0])


def test_crs_factors_by_hand():
    labeled = [[0]] * 24  # class 0 only
    records = {
        0: (np.array([0, 2]), np.array([0.3, 0.4])),  # kept: 0 and 2
        1: (np.array([0]), np.array([0.45])),
        3: (np.array([1, 2]), np.array([-0.1, -0.2])),  # below threshold: not counted
    }
    factors = crs_repeat_factors(labeled, records, num_unlabeled=5, num_classes=3, lam=0.5)
    # images: 24 labeled + 3 recorded; f(0) = 26/27, f(1) = 0, f(2) = 1/27
    r2 = math.sqrt(0.5 * 27)
    assert factors.tolist() == pytest.approx([max(1.0, r2 * 0.4), 1.0, 1.0, 1.0, 1.0])
    assert factors[0] == pytest.approx(1.4697, abs=1e-4)
    assert crs_repeat_factors(labeled, records, 5, 3, lam=0.0).tolist() == [1.0] * 5
    with pytest.raises(ValueError, match='outside'):
        crs_repeat_factors(labeled, {7: records[0]}, 5, 3, 0.5)
    with pytest.raises(ValueError, match='out of range'):
        crs_repeat_factors(labeled, {0: (np.array([5]), np.array([0.2]))}, 5, 3, 0.5)


@pytest.fixture(scope='module')
def concat(ci_data_dir):
    init_default_scope('mmdet')
    root = osp.join(ci_data_dir, 'ci_ssod_synthetic')
    classes = ('circle', 'square', 'triangle', 'diamond', 'cross', 'ring')

    def build(ann):
        return DATASETS.build(
            dict(type='CocoDataset', data_root=root, ann_file=f'annotations/{ann}.json',
                 data_prefix=dict(img='images/'), metainfo=dict(classes=classes),
                 filter_cfg=dict(filter_empty_gt=False), pipeline=[]))

    return ConcatDataset([build('train_labeled'), build('train_unlabeled')])


def _draws(sampler, num):
    return list(islice(iter(sampler), num))


def test_labeled_rfs_and_mixed_batches(concat):
    sampler = ClassRebalancingSampler(concat, batch_size=3, source_ratio=[1, 2],
                                      labeled_oversample_thr=0.5, seed=0)
    labeled = concat.datasets[0]
    expected = rfs_repeat_factors(sampler.labeled_classes, 6, 0.5)
    assert np.allclose(sampler.repeat_factors[0].numpy(), expected)
    assert expected.max() > 1.0  # the tail classes are oversampled
    draws = _draws(sampler, 3 * 1500)
    n_lab = len(labeled)
    for b in range(0, len(draws), 3):  # 1 labeled + 2 unlabeled per batch
        assert draws[b] < n_lab and all(i >= n_lab for i in draws[b + 1:b + 3])
    counts = Counter(i for i in draws if i < n_lab)
    freq = np.array([counts[i] for i in range(n_lab)]) / 1500
    assert np.allclose(freq, expected / expected.sum(), atol=0.04)
    rare = int(np.argmax(expected))
    assert freq[rare] > 1.2 * freq[int(np.argmin(expected))]  # tail images drawn more


def test_minority_images_drawn_more_often_and_refresh_in_place(concat):
    sampler = ClassRebalancingSampler(concat, batch_size=3, source_ratio=[1, 2], seed=1)
    unlabeled = concat.datasets[1]
    n_lab, n_unl = len(concat.datasets[0]), len(unlabeled)
    it = iter(sampler)
    before = Counter(i - n_lab for i in islice(it, 3 * 600) if i >= n_lab)
    # pseudo-labels: the first two unlabeled images hold confident minority ('ring') boxes
    img_ids = [unlabeled.get_data_info(i)['img_id'] for i in range(n_unl)]
    records = {img_ids[0]: (np.array([5]), np.array([0.5])),
               img_ids[1]: (np.array([5, 0]), np.array([0.45, 0.3]))}
    records.update({i: (np.array([0]), np.array([0.2])) for i in img_ids[2:]})
    factors = sampler.update_from_pseudo_labels(records, lam=8.0)  # tiny set: large lambda
    by_index = {i: records[img_ids[i]] for i in range(n_unl)}
    assert np.allclose(factors, crs_repeat_factors(sampler.labeled_classes, by_index, n_unl,
                                                   6, 8.0))
    assert factors[0] > 2 and factors[1] > 2 and (factors[2:] == 1).all()
    # same iterator, no rebuild: the new factors apply from the next draw
    after = Counter(i - n_lab for i in islice(it, 3 * 3000) if i >= n_lab)
    rate = lambda c, k: c[k] / sum(c.values())  # noqa: E731
    assert rate(before, 0) == pytest.approx(1 / n_unl, abs=0.03)
    expected = factors / factors.sum()
    assert rate(after, 0) == pytest.approx(expected[0], abs=0.03)
    assert rate(after, 0) > 2 * rate(after, 5) and rate(after, 1) > 2 * rate(after, 5)
    with pytest.raises(ValueError, match='repeat factors for source 1'):
        sampler.set_unlabeled_repeat_factors(np.ones(n_unl + 1))


def test_ranks_stay_in_lockstep_across_a_refresh(concat):
    """Two simulated ranks interleave to the single-process stream, refresh included."""
    def make(rank, world):
        s = ClassRebalancingSampler(concat, batch_size=3, source_ratio=[1, 2], seed=3)
        s.rank, s.world_size = rank, world
        s.source2inds = s._rank_streams()
        return s

    single, r0, r1 = make(0, 1), make(0, 2), make(1, 2)
    streams = [iter(s) for s in (single, r0, r1)]
    first = [list(islice(st, 3 * k)) for st, k in zip(streams, (10, 5, 5))]
    new = np.ones(len(concat.datasets[1]))
    new[:4] = 6.0
    for s in (single, r0, r1):
        s.set_unlabeled_repeat_factors(new)
    second = [list(islice(st, 3 * k)) for st, k in zip(streams, (20, 10, 10))]
    for part in (first, second):
        single_unl = [i for b in range(0, len(part[0]), 3) for i in part[0][b + 1:b + 3]]
        rank_unl = [[i for b in range(0, len(p), 3) for i in p[b + 1:b + 3]]
                    for p in part[1:]]
        interleaved = [x for pair in zip(*rank_unl) for x in pair]
        assert interleaved == single_unl


def test_epoch_length_makes_it_finite(concat):
    sampler = ClassRebalancingSampler(concat, batch_size=3, source_ratio=[1, 2], seed=0,
                                      epoch_length=4)
    assert len(sampler) == 12
    assert len(list(iter(sampler))) == 12 and len(list(iter(sampler))) == 12


def test_bad_dataset_raises(concat):
    with pytest.raises(ValueError, match='exactly|ConcatDataset'):
        ClassRebalancingSampler(ConcatDataset([concat.datasets[0]]), batch_size=2,
                                source_ratio=[1])
