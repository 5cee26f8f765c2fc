"""CrS / RFS repeat factors (hand computations) and ClassRebalancingSampler behaviour,
including epochs computed directly and exact resume (epoch- and iteration-based)."""
import io
import math
import os.path as osp
from collections import Counter, deque
from itertools import islice

import numpy as np
import pytest
import torch
from mmdet.registry import DATASETS
from mmengine.dataset import ConcatDataset
from mmengine.registry import init_default_scope

import mmssl.datasets.repeat_factor_stream as rfs_stream
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
    # RFS on the pseudo-labels (Table 3 row RFS / RFS): r(c) of the kept labels, no margin
    rfs = crs_repeat_factors(labeled, records, 5, 3, lam=0.5, score_weighted=False)
    assert rfs.tolist() == pytest.approx([r2, 1.0, 1.0, 1.0, 1.0])
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
        s.rank, s.world_size = rank, world  # read when an iterator builds its streams
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


def test_epoch_stream_is_computed_directly_and_resumes_exactly(concat, monkeypatch):
    """set_epoch(e) draws epoch e from generators keyed by e alone (no replay of epochs < e),
    so a run resumed at epoch e gets the epoch an uninterrupted run gets."""
    kwargs = dict(batch_size=3, source_ratio=[1, 2], seed=0, epoch_length=5)
    uninterrupted = ClassRebalancingSampler(concat, **kwargs)
    epochs = []
    for e in range(8):
        uninterrupted.set_epoch(e)
        epochs.append(list(uninterrupted))
    assert epochs[6] != epochs[7]
    keys = []
    real = rfs_stream.keyed_rng
    monkeypatch.setattr(rfs_stream, 'keyed_rng', lambda *k: keys.append(k) or real(*k))
    resumed = ClassRebalancingSampler(concat, **kwargs)
    resumed.set_epoch(7)
    assert list(resumed) == epochs[7]
    assert {k[2] for k in keys} == {7}  # keys: (seed, source, epoch, segment start)


class _Prefetching:
    """Batches of a sampler read ``lead`` batches ahead, as a DataLoader with workers does
    (it pulls indices when the iterator is created and one batch more per ``next``)."""

    def __init__(self, sampler, lead):
        self.it, self.batch_size = iter(sampler), sampler.batch_size
        self.queue = deque(self._pull() for _ in range(lead))

    def _pull(self):
        return list(islice(self.it, self.batch_size))

    def __next__(self):
        self.queue.append(self._pull())
        return self.queue.popleft()


def _refresh_factors(n, step):
    return 1.0 + (np.arange(n) % (step % 5 + 2)) * 0.7


def _train(samplers, loaders, start, stop, every=4):
    """Iterations start..stop-1 on every rank; the CrS refresh after every ``every``."""
    batches = []
    for i in range(start, stop):
        batches.append([next(loader) for loader in loaders])
        if (i + 1) % every == 0:
            n = len(samplers[0].dataset.datasets[1])
            for s in samplers:
                s.set_unlabeled_repeat_factors(_refresh_factors(n, i + 1))
    return batches


@pytest.mark.parametrize('world_size,lead', [(1, 0), (1, 3), (2, 2)])
def test_iteration_based_resume_with_refreshes_is_exact(concat, world_size, lead):
    """Checkpoint at iteration 12 (after a refresh), resume as mmengine does (fresh
    dataloader advanced by 12 batches, no hooks): the next batches equal the uninterrupted
    run's, even with another seed in the resumed config."""
    def make(seed):
        samplers = []
        for rank in range(world_size):
            s = ClassRebalancingSampler(concat, batch_size=3, source_ratio=[1, 2], seed=seed)
            s.rank, s.world_size = rank, world_size
            samplers.append(s)
        return samplers, [_Prefetching(s, lead) for s in samplers]

    samplers, loaders = make(3)
    first = _train(samplers, loaders, 0, 12)
    buffer = io.BytesIO()
    torch.save(samplers[0].state_dict(), buffer)  # rank 0 writes the checkpoint
    assert [s.state_dict()['starts'][1].tolist() for s in samplers] == \
        [samplers[0].state_dict()['starts'][1].tolist()] * world_size  # lockstep
    later = _train(samplers, loaders, 12, 26)

    resumed, resumed_loaders = make(99)  # iterators already prefetching (lead > 0)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    for s in resumed:
        s.load_state_dict(state)
    for loader in resumed_loaders:  # IterBasedTrainLoop: advance the dataloader 12 steps
        for _ in range(12):
            next(loader)
    assert _train(resumed, resumed_loaders, 12, 26) == later
    assert len(first) == 12

    # the pre-fix resume (factors recomputed at resume, streams restarted) is not exact
    old, old_loaders = make(3)
    for s in old:
        s.set_unlabeled_repeat_factors(_refresh_factors(len(concat.datasets[1]), 12))
    for loader in old_loaders:
        for _ in range(12):
            next(loader)
    assert _train(old, old_loaders, 12, 26) != later


def test_state_of_another_dataset_is_refused(concat):
    sampler = ClassRebalancingSampler(concat, batch_size=3, source_ratio=[1, 2], seed=0)
    state = sampler.state_dict()
    state['factors'][1] = [torch.ones(3, dtype=torch.float64)]
    with pytest.raises(ValueError, match='does not match'):
        sampler.load_state_dict(state)


def test_stands_alone_with_multi_source_batch_layout(concat):
    """Not a subclass of mmdet's MultiSourceSampler (it shares none of its drawing, epochs
    or state) but the same batch layout: int(b * r / sum) unlabeled images, the rest
    labeled, labeled first in every batch."""
    from mmdet.datasets.samplers import MultiSourceSampler
    for batch_size, ratio in ((5, [1, 4]), (3, [1, 2]), (7, [2, 3]), (4, [1, 0]), (6, [0.5, 1])):
        sampler = ClassRebalancingSampler(concat, batch_size=batch_size, source_ratio=ratio,
                                          seed=0)
        assert not isinstance(sampler, MultiSourceSampler)
        reference = MultiSourceSampler(concat, batch_size=batch_size, source_ratio=ratio,
                                       seed=0)
        assert sampler.num_per_source == reference.num_per_source
        assert sampler.cumulative_sizes == reference.cumulative_sizes
        assert len(sampler) == len(reference) == len(concat)
        num_lab = sampler.num_per_source[0]
        batch = list(islice(iter(sampler), 2 * batch_size))
        for start in (0, batch_size):
            labeled = batch[start:start + num_lab]
            unlabeled = batch[start + num_lab:start + batch_size]
            assert all(i < len(concat.datasets[0]) for i in labeled)
            assert all(i >= len(concat.datasets[0]) for i in unlabeled)
    for bad in ([1, 2, 3], [-1, 2], [0, 0]):
        with pytest.raises(ValueError, match='source_ratio'):
            ClassRebalancingSampler(concat, batch_size=3, source_ratio=bad)
    with pytest.raises(ValueError, match='batch_size'):
        ClassRebalancingSampler(concat, batch_size=0, source_ratio=[1, 2])
    with pytest.raises(TypeError, match='ConcatDataset'):
        ClassRebalancingSampler(concat.datasets[0], batch_size=3, source_ratio=[1, 2])
