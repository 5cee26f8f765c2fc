"""A finite sampler that mixes sources (labeled / unlabeled) at a fixed per-batch ratio.

mmdet's ``MultiSourceSampler`` is infinite (iteration-based loops only) and mmpose's
``MultiSourceSampler`` draws every source at random. This sampler defines an epoch as the
semi-supervised papers do (PoseDual: ``max(len(labeled), len(unlabeled))`` samples): the
*largest* source (relative to its share of the batch) is visited exactly once per epoch, each
other source is resampled to fill its share. It works with ``EpochBasedTrainLoop`` (``set_epoch``)
and ``IterBasedTrainLoop`` (which re-iterates the dataloader and bumps the epoch), and in DDP
every rank gets different samples of every global batch.

Epoch windows. An epoch takes a window of ``L = B * n_s * world_size`` items of source ``s``
(``B`` batches per epoch, ``n_s`` items of the source per rank batch, ``N`` items in the
source). With ``L = q * N + m`` (``0 <= m < N``) the window is ``q`` permutations of the
source followed by a shuffle of ``m`` *extra* items; the extras of epoch ``e`` are the items
``[e * m, (e + 1) * m)`` of a walk through the source in one random order fixed for the run.
So a window never repeats an item unless it is longer than the source, and after any number
of epochs the visit counts of two items differ by at most one. For the epoch-defining source
``B = floor(N / (n * world_size))``, so ``q = 0``: each epoch visits ``L`` distinct items and
the (fewer than one global batch) items it leaves out are the first ones of the next
epoch's walk, so over the run nothing is lost, and within an epoch nothing is duplicated.

Every window is a pure function of ``(seed, source, epoch)`` (:func:`keyed_rng`): the start
of epoch ``e`` costs ``O(N + L)`` whatever ``e`` is, and a run resumed at epoch ``e`` (or an
iteration-based run re-iterating into it) gets exactly the indices of an uninterrupted run.
"""
from typing import Iterator, List, Optional, Sequence, Sized

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from mmengine.registry import DATA_SAMPLERS
from torch.utils.data import Sampler

from .keyed_rng import keyed_rng


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


def epoch_window(size: int, length: int, epoch: int, seed: int, source: int = 0,
                 shuffle: bool = True) -> np.ndarray:
    """The ``length`` items (indices into ``range(size)``) of one source in one epoch.

    Computed from ``(seed, source, epoch)`` alone in ``O(size + length)`` time and memory, so
    any epoch is as cheap as the first (see the module docstring for the layout).

    Args:
        size (int): Items in the source (> 0).
        length (int): Items the epoch takes from the source.
        epoch (int): Epoch index (>= 0).
        seed (int): Base seed of the run.
        source (int): Source index (each source has its own streams). Defaults to 0.
        shuffle (bool): ``False`` walks the source in order (for debugging). Defaults to True.

    Returns:
        np.ndarray: ``(length, )`` int64 indices.
    """
    if size < 1 or length < 0 or epoch < 0:
        raise ValueError(f'need size >= 1, length >= 0, epoch >= 0; got {size}, {length}, '
                         f'{epoch}')
    if not shuffle:
        start = (epoch * length) % size
        return (start + np.arange(length, dtype=np.int64)) % size
    repeats, extra = divmod(length, size)
    order = keyed_rng(seed, source, 0, 0).permutation(size)  # the run's walk order
    walk = order[((epoch * extra) % size + np.arange(extra, dtype=np.int64)) % size]
    rng = keyed_rng(seed, source, 1, epoch)
    full = rng.permuted(np.tile(np.arange(size, dtype=np.int64), (repeats, 1)), axis=1)
    return np.concatenate([full.reshape(-1), rng.permutation(walk)])


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
        shuffle: shuffle within each source (``False``: walk each source in order, for
            debugging).
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

    def _source_window(self, source: int) -> np.ndarray:
        """The current epoch's window of one source (all ranks' items)."""
        length = self.num_batches * self.per_batch[source] * self.world_size
        return epoch_window(self.sizes[source], length, self.epoch, self.seed, source,
                            self.shuffle)

    def __iter__(self) -> Iterator[int]:
        per_source = []
        for s, n in enumerate(self.per_batch):
            window = self._source_window(s) + self.offsets[s]
            # [batch, rank, n]: global batch b gives rank r items [r*n, (r+1)*n) of its slice
            per_source.append(window.reshape(self.num_batches, self.world_size, n)[:, self.rank])
        batches = np.concatenate(per_source, axis=1)  # [batch, batch_size], sources in order
        return iter(batches.reshape(-1).tolist())

    def __len__(self) -> int:
        return self.num_batches * self.batch_size

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch's windows (called by the training loops)."""
        if epoch < 0:
            raise ValueError(f'epoch must be >= 0, got {epoch}')
        self.epoch = int(epoch)

    @property
    def epoch_samples(self) -> int:
        """Samples per epoch over all ranks: ``max_s(len(source_s))`` rounded to batches."""
        return self.num_batches * self.batch_size * self.world_size


def num_batches_per_epoch(sizes: Sequence[int], per_batch: Sequence[int],
                          world_size: int = 1) -> int:
    """Batches in one epoch for the given source sizes (for schedules in configs/tools)."""
    return max(max(1, s // (n * world_size)) for s, n in zip(sizes, per_batch))


__all__ = [
    'MixedRatioSampler', 'split_batch', 'source_sizes', 'num_batches_per_epoch', 'epoch_window'
]
