import numpy as np
import pytest
import torch
from torch.utils.data import ConcatDataset, Dataset

import mmssl.datasets.mixed_ratio_sampler as mrs
from mmssl.datasets import MixedRatioSampler


class _Range(Dataset):
    """A source of ``n`` integer samples (index-only: the sampler never reads items)."""

    def __init__(self, n, source=0):
        self.n, self.source = n, source

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.source * 1000 + i


def _concat(*sizes):
    return ConcatDataset([_Range(n, s) for s, n in enumerate(sizes)])


def _batches(sampler):
    idx = list(sampler)
    assert len(idx) == len(sampler)
    return np.array(idx).reshape(-1, sampler.batch_size)


def test_batches_have_fixed_ratio_and_epoch_is_max_source():
    sampler = MixedRatioSampler(_concat(10, 37), batch_size=6, source_ratio=[1, 2], seed=0)
    assert sampler.per_batch == [2, 4]
    batches = _batches(sampler)
    assert len(batches) == 37 // 4  # unlabeled (largest per share) defines the epoch
    assert (batches[:, :2] < 10).all() and (batches[:, 2:] >= 10).all()
    unl = batches[:, 2:].reshape(-1)
    assert len(set(unl.tolist())) == len(unl)  # no duplicate within the epoch


def test_nothing_lost_across_epochs_and_deterministic():
    sampler = MixedRatioSampler(_concat(10, 37), batch_size=4, source_ratio=[1, 1], seed=3)
    seen = []
    for epoch in range(3):
        sampler.set_epoch(epoch)
        seen.append(_batches(sampler)[:, 2:].reshape(-1))
    # 18 batches x 2 = 36 per epoch: the left-over unlabeled item comes first next epoch
    assert set(np.concatenate(seen[:2]).tolist()) == set(range(10, 47))
    again = MixedRatioSampler(_concat(10, 37), batch_size=4, source_ratio=[1, 1], seed=3)
    again.set_epoch(2)
    np.testing.assert_array_equal(_batches(again)[:, 2:].reshape(-1), seen[2])
    assert not np.array_equal(seen[0], seen[1])


@pytest.mark.parametrize('world_size', [2, 3])
def test_ranks_get_disjoint_samples(monkeypatch, world_size):
    per_rank = []
    for rank in range(world_size):
        monkeypatch.setattr(mrs, 'get_dist_info', lambda r=rank: (r, world_size))
        sampler = MixedRatioSampler(_concat(90, 20), batch_size=4, source_ratio=[3, 1],
                                    seed=11)
        sampler.set_epoch(1)
        per_rank.append(_batches(sampler))
    lens = {len(b) for b in per_rank}
    # labeled (90 items, 3 per rank batch) defines the epoch; same step count on every rank
    assert lens == {90 // (3 * world_size)}
    labeled = np.concatenate([b[:, :3].reshape(-1) for b in per_rank])
    assert len(set(labeled.tolist())) == len(labeled)  # no rank repeats another's sample
    assert (labeled < 90).all()
    assert all((b[:, 3:] >= 90).all() for b in per_rank)


def test_ratio_that_does_not_fit_batch_is_refused():
    with pytest.raises(ValueError, match='does not fit batch_size 5'):
        MixedRatioSampler(_concat(4, 4), batch_size=5, source_ratio=[1, 1])


def test_empty_source_is_refused():
    with pytest.raises(ValueError, match='source 1 .* is empty'):
        MixedRatioSampler(_concat(4, 0), batch_size=4, source_ratio=[1, 1])


def test_plain_dataset_is_refused():
    with pytest.raises(TypeError, match='ConcatDataset or CombinedDataset'):
        MixedRatioSampler(_Range(8), batch_size=4, source_ratio=[1, 1])


def test_works_with_torch_dataloader():
    ds = _concat(6, 9)
    sampler = MixedRatioSampler(ds, batch_size=3, source_ratio=[1, 2], seed=0)
    loader = torch.utils.data.DataLoader(ds, batch_size=3, sampler=sampler)
    batches = [b.tolist() for b in loader]
    assert len(batches) == len(sampler) // 3 == 6  # 6 labeled at 1 per batch define it
    assert all(b[0] < 1000 and min(b[1:]) >= 1000 for b in batches)  # source 0, 1, 1
