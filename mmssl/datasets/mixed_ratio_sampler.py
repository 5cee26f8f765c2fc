"""A finite sampler that mixes sources (labeled / unlabeled) at a fixed per-batch ratio.

mmdet's ``MultiSourceSampler`` is infinite (iteration-based loops only) and mmpose's
``MultiSourceSampler`` draws every source at random. This sampler defines an epoch as the
semi-supervised papers do (PoseDual: ``max(len(labeled), len(unlabeled))`` samples): the
*largest* source (relative to its share of the batch) is visited exactly once per epoch, each
other source is resampled to fill its share. It works with ``EpochBasedTrainLoop`` (``set_epoch``)
and ``IterBasedTrainLoop`` (which re-iterates the dataloader and bumps the epoch), and in DDP
every rank gets different samples of every global batch.

Sample streams. Each source is read as a stream of permutations ("cycles"). An epoch takes a
window of ``B * n_s * world_size`` items of source ``s`` (``B`` batches per epoch, ``n_s``
items of the source per rank batch). When a window runs past the end of a cycle, the next
cycle is drawn as a shuffle of the items *not yet in the window* followed by a shuffle of the
ones that are, so a window never repeats an item unless it is longer than the source. For
the epoch-defining source ``B = floor(N / (n * world_size))``: the (fewer than one global
batch) items left over at the end of an epoch are the first ones of the next epoch, so over
the run nothing is lost, and within an epoch nothing is duplicated.
"""
from typing import Iterator, List, Optional, Sequence, Sized

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from mmengine.registry import DATA_SAMPLERS
from torch.utils.data import Sampler


def source_sizes(dataset: Sized) -> List[int]:
    """Lengths of the sub-datasets of an mmengine ``ConcatDataset`` or mmpose
    ``CombinedDataset`` (the two ways OpenMMLab configs combine sources)."""
    if hasattr(dataset, 'cumulative_sizes'):
        cum = list(dataset.cumulative_sizes)
        return [b - a for a, b in zip([0] + cum[:-1], cum)]
    if hasattr(dataset, 'lens'):
        return list(dataset.lens)
    raise TypeError(f'MixedRatioSampler needs a ConcatDataset or CombinedDataset with one '
                    f'sub-dataset per source, got {type(dataset).__name__}')


def split_batch(batch_size: int, source_ratio: Sequence[float]) -> List[int]:
    """Items of each source in one batch; the ratio must divide the batch exactly."""
    if len(source_ratio) < 2 or min(source_ratio) <= 0:
        raise ValueError(f'source_ratio must have >= 2 positive entries, got {source_ratio}')
    total = float(sum(source_ratio))
    counts = [batch_size * r / total for r in source_ratio]
    if any(abs(c - round(c)) > 1e-6 for c in counts):
        raise ValueError(f'source_ratio {list(source_ratio)} does not fit batch_size '
                         f'{batch_size}: it would need {counts} samples per source; choose a '
                         'batch size that the ratio divides')
    return [int(round(c)) for c in counts]


class _CycleStream:
    """Deterministic windows over repeated permutations of ``range(size)``."""

    def __init__(self, size: int, seed: int) -> None:
        self.size, self.seed = size, seed

    def windows(self, length: int, num_epochs: int) -> List[np.ndarray]:
        """The windows of epochs ``0 .. num_epochs - 1`` (each of ``length`` items)."""
        rng = np.random.default_rng(self.seed)
        cycle, pos, out = rng.permutation(self.size), 0, []
        for _ in range(num_epochs):
            window: List[int] = []
            while len(window) < length:
                take = min(length - len(window), self.size - pos)
                window.extend(cycle[pos:pos + take].tolist())
                pos += take
                if pos == self.size:  # next cycle: items not in this window come first
                    seen = np.zeros(self.size, bool)
                    seen[window[-self.size:]] = True
                    cycle = np.concatenate([rng.permutation(np.flatnonzero(~seen)),
                                            rng.permutation(np.flatnonzero(seen))])
                    pos = 0
            out.append(np.asarray(window, dtype=np.int64))
        return out


@DATA_SAMPLERS.register_module()
class MixedRatioSampler(Sampler):
    """Yield per-rank batches of ``batch_size`` indices mixing sources at ``source_ratio``.

    Each rank batch lists the items of source 0, then of source 1, ... (indices into the
    concatenated dataset). Use it with the dataloader's ``batch_size`` equal to this one.

    Args:
        dataset: ``ConcatDataset`` / ``CombinedDataset`` with one sub-dataset per source
            (e.g. ``[labeled, unlabeled]``).
        batch_size: per-rank batch size (the dataloader's ``batch_size``).
        source_ratio: relative share of each source in a batch, e.g. ``[1, 1]``; it must
            divide ``batch_size`` exactly.
        shuffle: shuffle within each source (``False``: cycles are in order, for debugging).
        seed: base seed, synchronised across ranks when ``None``.
    """

    def __init__(self, dataset: Sized, batch_size: int, source_ratio: Sequence[float],
                 shuffle: bool = True, seed: Optional[int] = None) -> None:
        self.dataset = dataset
        self.batch_size = batch_size
        self.source_ratio = list(source_ratio)
        self.sizes = source_sizes(dataset)
        if len(self.sizes) != len(self.source_ratio):
            raise ValueError(f'source_ratio has {len(self.source_ratio)} entries but the '
                             f'dataset has {len(self.sizes)} sources')
        for i, size in enumerate(self.sizes):
            if size == 0:
                raise ValueError(f'source {i} of the {type(dataset).__name__} is empty: a '
                                 'mixed labeled/unlabeled batch needs samples from every '
                                 'source (check its annotation file and filters)')
        self.per_batch = split_batch(batch_size, self.source_ratio)
        self.offsets = np.cumsum([0] + self.sizes[:-1]).tolist()
        self.rank, self.world_size = get_dist_info()
        self.seed = sync_random_seed() if seed is None else seed
        self.shuffle = shuffle
        self.epoch = 0
        # Batches per epoch: the source needing most batches to be seen once defines it.
        self.num_batches = num_batches_per_epoch(self.sizes, self.per_batch, self.world_size)

    def _source_windows(self, source: int) -> np.ndarray:
        length = self.num_batches * self.per_batch[source] * self.world_size
        size = self.sizes[source]
        if not self.shuffle:
            start = self.epoch * length
            return (np.arange(start, start + length) % size).astype(np.int64)
        stream = _CycleStream(size, self.seed + 7919 * source)
        return stream.windows(length, self.epoch + 1)[-1]

    def __iter__(self) -> Iterator[int]:
        per_source = []
        for s, n in enumerate(self.per_batch):
            window = self._source_windows(s) + self.offsets[s]
            # [batch, rank, n]: global batch b gives rank r items [r*n, (r+1)*n) of its slice
            per_source.append(window.reshape(self.num_batches, self.world_size, n)[:, self.rank])
        batches = np.concatenate(per_source, axis=1)  # [batch, batch_size], sources in order
        return iter(batches.reshape(-1).tolist())

    def __len__(self) -> int:
        return self.num_batches * self.batch_size

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch's windows (called by the training loops)."""
        self.epoch = epoch

    @property
    def epoch_samples(self) -> int:
        """Samples per epoch over all ranks: ``max_s(len(source_s))`` rounded to batches."""
        return self.num_batches * self.batch_size * self.world_size


def num_batches_per_epoch(sizes: Sequence[int], per_batch: Sequence[int],
                          world_size: int = 1) -> int:
    """Batches in one epoch for the given source sizes (for schedules in configs/tools)."""
    return max(max(1, s // (n * world_size)) for s, n in zip(sizes, per_batch))


__all__ = ['MixedRatioSampler', 'split_batch', 'source_sizes', 'num_batches_per_epoch']
