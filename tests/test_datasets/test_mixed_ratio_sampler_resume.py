"""MixedRatioSampler: any epoch is computed on its own (cost flat in the epoch index) and a
resumed run, epoch- or iteration-based, gets exactly the indices of an uninterrupted one."""
import mmengine.runner.loops as mmengine_loops
import numpy as np
import pytest
import torch
from torch.utils.data import ConcatDataset, Dataset

import mmssl.datasets.mixed_ratio_sampler as mrs
from mmssl.datasets import MixedRatioSampler
from mmssl.datasets.mixed_ratio_sampler import epoch_window


class _Range(Dataset):

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return i


def _concat(*sizes):
    return ConcatDataset([_Range(n) for n in sizes])


def _epoch(sampler, epoch):
    sampler.set_epoch(epoch)
    return np.array(list(sampler)).reshape(-1, sampler.batch_size)


def test_epoch_is_computed_without_the_epochs_before(monkeypatch):
    """The generators used for epoch 400 are keyed by epoch 400 (or fixed for the run) and
    draw O(source) numbers: nothing of epochs 0..399 is generated (the old stream replayed
    all of them)."""
    keys, drawn = [], []
    real = mrs.keyed_rng

    class Counting:
        def __init__(self, rng):
            self.rng = rng

        def permutation(self, x):
            drawn.append(x if isinstance(x, int) else len(x))
            return self.rng.permutation(x)

        def permuted(self, x, axis):
            drawn.append(x.size)
            return self.rng.permuted(x, axis=axis)

    def counting_rng(seed, *key):
        keys.append(key)
        return Counting(real(seed, *key))

    monkeypatch.setattr(mrs, 'keyed_rng', counting_rng)
    sampler = MixedRatioSampler(_concat(30, 1000), batch_size=8, source_ratio=[1, 1], seed=5)
    _epoch(sampler, 400)
    # per source: the run's walk order (0, 0) and the epoch's generator (1, 400)
    assert sorted(keys) == [(0, 0, 0), (0, 1, 400), (1, 0, 0), (1, 1, 400)]
    # 1000 (order) + 1000 (window) for the unlabeled source, 30 + 1000 + 10 for the labeled
    assert sum(drawn) <= 2 * (30 + 1000) + 1000
    monkeypatch.setattr(mrs, 'keyed_rng', real)
    uninterrupted = MixedRatioSampler(_concat(30, 1000), batch_size=8, source_ratio=[1, 1],
                                      seed=5)
    np.testing.assert_array_equal(_epoch(uninterrupted, 400), _epoch(sampler, 400))


@pytest.mark.parametrize('world_size', [1, 3])
def test_resumed_at_epoch_e_equals_uninterrupted(monkeypatch, world_size):
    sizes, kwargs = (7, 50), dict(batch_size=6, source_ratio=[1, 2], seed=9)
    runs = {}
    for rank in range(world_size):
        monkeypatch.setattr(mrs, 'get_dist_info', lambda r=rank: (r, world_size))
        sampler = MixedRatioSampler(_concat(*sizes), **kwargs)
        runs[rank] = [_epoch(sampler, e) for e in range(12)]
        for e in (0, 1, 5, 11):  # a fresh sampler (a resumed run) at epoch e
            again = MixedRatioSampler(_concat(*sizes), **kwargs)
            np.testing.assert_array_equal(_epoch(again, e), runs[rank][e])
    for e in range(12):  # the epoch-defining unlabeled source: distinct across ranks
        unl = np.concatenate([runs[r][e][:, 2:].reshape(-1) for r in range(world_size)])
        assert len(set(unl.tolist())) == len(unl)


@pytest.mark.parametrize('sizes,ratio,batch', [((7, 50), [1, 2], 6), ((40, 9), [3, 1], 8)])
def test_visit_counts_stay_balanced_over_epochs(sizes, ratio, batch):
    """After any number of epochs two items of a source were visited at most once apart
    (nothing lost, nothing favoured), whether the epoch takes less or more than the source."""
    sampler = MixedRatioSampler(_concat(*sizes), batch_size=batch, source_ratio=ratio,
                                seed=2)
    counts = [np.zeros(n, int) for n in sizes]
    offsets = [0, sizes[0]]
    for e in range(15):
        batches = _epoch(sampler, e)
        split = sampler.per_batch[0]
        for s, part in enumerate((batches[:, :split], batches[:, split:])):
            np.add.at(counts[s], part.reshape(-1) - offsets[s], 1)
            assert counts[s].max() - counts[s].min() <= 1, (e, s, counts[s])


def test_epoch_window_layout():
    size, length = 10, 34  # 3 permutations + 4 extras of the run's walk
    windows = [epoch_window(size, length, e, seed=1) for e in range(5)]
    for w in windows:
        assert all(sorted(w[k * 10:(k + 1) * 10].tolist()) == list(range(10))
                   for k in range(3))
        assert len(set(w[30:].tolist())) == 4
    for a, b in zip(windows, windows[1:]):  # consecutive epochs' extras: disjoint
        assert not set(a[30:].tolist()) & set(b[30:].tolist())
    walked = np.concatenate([w[30:] for w in windows])  # 20 items: the walk twice
    assert np.bincount(walked, minlength=10).tolist() == [2] * 10
    np.testing.assert_array_equal(epoch_window(size, 7, 3, seed=1, shuffle=False),
                                  (21 + np.arange(7)) % 10)  # in order: epoch * length on
    with pytest.raises(ValueError, match='epoch >= 0'):
        epoch_window(size, 7, -1, seed=1)


def test_iteration_based_resume_is_exact(monkeypatch):
    """mmengine's IterBasedTrainLoop re-iterates the dataloader (set_epoch(e + 1)) and, on
    resume, advances a fresh iterator by the trained iterations: the next batches match."""
    monkeypatch.setattr(mmengine_loops.time, 'sleep', lambda s: None)  # epoch roll-over wait

    def loader():
        ds = _concat(5, 23)
        sampler = MixedRatioSampler(ds, batch_size=4, source_ratio=[1, 1], seed=4)
        dl = torch.utils.data.DataLoader(ds, batch_size=4, sampler=sampler)
        return mmengine_loops._InfiniteDataloaderIterator(dl)

    it = loader()
    uninterrupted = [next(it).tolist() for _ in range(60)]  # 11 batches per epoch: > 5 epochs
    resumed = loader()
    for _ in range(37):  # what IterBasedTrainLoop.run does after resuming at iteration 37
        next(resumed)
    assert [next(resumed).tolist() for _ in range(23)] == uninterrupted[37:]
