"""Epoch-start time and peak memory of the samplers at epochs 1 / 100 / 400 (target: flat, < 1 s).

    OMP_NUM_THREADS=1 python benchmarks/bench_sampler_epoch_start.py [--epochs 1 100 400]
        [--world-size 8] [--no-reference] [--out result.json]

Index-only COCO-sized sources (the samplers never read an item), one process acting as rank
0 of ``--world-size`` ranks (every rank does the same work):

* ``MixedRatioSampler``: 150K unlabeled person boxes + 1K / 10K labeled ones, 32 + 32 per
  rank batch (PoseDual's ``source_ratio=[1, 1]``, batch 64). Epoch start = ``set_epoch(e)``,
  ``iter()`` (all windows of the epoch) and the first batch.
* ``ClassRebalancingSampler``: 11.8K labeled + 118K unlabeled images (COCO train2017 sizes,
  RFS on the labeled part, CrS factors > 1 on a fifth of the unlabeled images), 1 + 4 per
  rank batch, ``epoch_length`` = one pass over the unlabeled images. "running" = the epoch
  start of an uninterrupted job; "resumed" = the start of epoch e in a job resumed there
  with exactly the indices of an uninterrupted one. "epoch" = drawing this rank's whole
  epoch.

"reference" is the pre-fix implementation, kept in this file only to be measured:
``_QuadraticReferenceStream`` regenerated every earlier epoch's window in Python lists at
each epoch start; ``_PerItemReferenceCrSSampler`` walked the global stream item by item on
every rank and could reach epoch e exactly only by replaying the e epochs before (it had no
``set_epoch``). Times are the median of ``--repeats`` runs (reference: one run) without
tracemalloc; peak memory is a separate tracemalloc run (numpy buffers included).

Measured (this script with its defaults: world size 8, 2-core CPU shared with other jobs,
OMP_NUM_THREADS=1, Python 3.11, numpy 1.26; epochs are ``set_epoch`` indices)::

    case                      epoch   new time  new peak    reference   ref. peak
    MixedRatio 1K+150K            1    0.008 s   5.7 MiB      0.046 s    10.4 MiB
    MixedRatio 1K+150K          100    0.006 s   5.7 MiB      2.355 s   123.5 MiB
    MixedRatio 1K+150K          400    0.006 s   5.7 MiB     12.040 s   466.4 MiB
    MixedRatio 10K+150K           1    0.014 s   5.7 MiB      0.085 s    10.4 MiB
    MixedRatio 10K+150K         100    0.014 s   5.7 MiB      4.254 s   123.5 MiB
    MixedRatio 10K+150K         400    0.010 s   5.7 MiB     14.142 s   466.4 MiB
    CrS 11.8K+118K, resumed       1    0.007 s   4.2 MiB      0.040 s     6.4 MiB
    CrS 11.8K+118K, resumed     100    0.003 s   4.2 MiB      3.357 s     6.4 MiB
    CrS 11.8K+118K, resumed     400    0.007 s   4.2 MiB     11.672 s     6.4 MiB
    CrS 11.8K+118K, running     any    0.003-0.007 s         0.000005 s (stream continued)
    CrS whole epoch, rank 0     400    0.020 s   4.2 MiB      0.017 s     6.4 MiB

New: flat in the epoch index, < 15 ms and < 6 MiB at every epoch. Reference: grows linearly
(MixedRatio: 12-14 s and 466 MiB per rank at epoch 400; CrS: an exact resume at epoch 400
replays 400 epochs, 11.7 s). A running CrS job now starts each epoch with a fresh round
(~5 ms) where the pre-fix sampler just continued its stream; a whole CrS epoch costs about
the same as before (~20 ms on rank 0 of 8).
"""
import argparse
import contextlib
import itertools
import json
import statistics
import time
import tracemalloc
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch.utils.data import ConcatDataset, Dataset

import mmssl.datasets.mixed_ratio_sampler as mrs
from mmssl.datasets import MixedRatioSampler
from mmssl.datasets.class_rebalancing_sampler import ClassRebalancingSampler


class _Indices(Dataset):
    """``n`` items that are never read, optionally with COCO-like class lists (for RFS)."""

    def __init__(self, n: int, num_classes: int = 80, seed: int = 0) -> None:
        self.n = n
        self.metainfo = dict(classes=tuple(f'c{i}' for i in range(num_classes)))
        self._seed, self._num_classes = seed, num_classes
        self._classes: Optional[List[List[int]]] = None

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        return i

    def get_cat_ids(self, i: int) -> List[int]:
        if self._classes is None:  # long-tailed: class c drawn with weight 1 / (c + 1)
            rng = np.random.default_rng(self._seed)
            p = 1.0 / np.arange(1, self._num_classes + 1)
            counts = rng.integers(1, 5, self.n)
            flat = rng.choice(self._num_classes, counts.sum(), p=p / p.sum())
            self._classes = [c.tolist() for c in np.split(flat, np.cumsum(counts)[:-1])]
        return self._classes[i]


@contextlib.contextmanager
def _world(world_size: int) -> Iterator[None]:
    """MixedRatioSampler built as rank 0 of ``world_size`` (it asks mmengine at init)."""
    real = mrs.get_dist_info
    mrs.get_dist_info = lambda: (0, world_size)
    try:
        yield
    finally:
        mrs.get_dist_info = real


# ----------------------------------------------------------------- references (pre-fix)
class _QuadraticReferenceStream:
    """Pre-fix ``_CycleStream``: the windows of epochs ``0 .. num_epochs - 1`` in Python
    lists (each cycle's order depends on the previous window), so epoch e costs O(e * N)."""

    def __init__(self, size: int, seed: int) -> None:
        self.size, self.seed = size, seed

    def windows(self, length: int, num_epochs: int) -> List[np.ndarray]:
        rng = np.random.default_rng(self.seed)
        cycle, pos, out = rng.permutation(self.size), 0, []
        for _ in range(num_epochs):
            window: List[int] = []
            while len(window) < length:
                take = min(length - len(window), self.size - pos)
                window.extend(cycle[pos:pos + take].tolist())
                pos += take
                if pos == self.size:
                    seen = np.zeros(self.size, bool)
                    seen[window[-self.size:]] = True
                    cycle = np.concatenate([rng.permutation(np.flatnonzero(~seen)),
                                            rng.permutation(np.flatnonzero(seen))])
                    pos = 0
            out.append(np.asarray(window, dtype=np.int64))
        return out


class _QuadraticReferenceSampler(MixedRatioSampler):
    """MixedRatioSampler with the pre-fix window of each source."""

    def _source_window(self, source: int) -> np.ndarray:
        length = self.num_batches * self.per_batch[source] * self.world_size
        stream = _QuadraticReferenceStream(self.sizes[source], self.seed + 7919 * source)
        return stream.windows(length, self.epoch + 1)[-1]


class _PerItemReferenceCrSSampler(ClassRebalancingSampler):
    """Pre-fix ClassRebalancingSampler streams: one infinite per-item generator per source
    walking the global stream (every rank's items) and sliced by ``islice``; no epochs."""

    def _ref_round(self, factors: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        whole = factors.floor()
        extra = torch.rand(factors.numel(), generator=generator, dtype=torch.float64)
        repeats = (whole + (extra < factors - whole).double()).long()
        indices = torch.repeat_interleave(torch.arange(factors.numel()), repeats)
        return indices[torch.randperm(indices.numel(), generator=generator)]

    def _ref_global_stream(self, source: int) -> Iterator[int]:
        generator = torch.Generator()
        generator.manual_seed(int(self.seed) + 7919 * source)
        position = 0
        while True:
            version = self._versions[source]
            for idx in self._ref_round(self._factors[source], generator).tolist():
                if position % self.world_size == 0 and self._versions[source] != version:
                    break
                yield idx
                position += 1

    def start_run(self) -> None:
        self._ref_streams = {
            s: itertools.islice(self._ref_global_stream(s), self.rank, None, self.world_size)
            for s in range(2)
        }

    def __iter__(self) -> Iterator[int]:
        total = self.epoch_length * self.batch_size
        produced = 0
        while produced < total:
            for source, num in enumerate(self.num_per_source):
                offset = self.cumulative_sizes[source]
                for _ in range(num):
                    yield next(self._ref_streams[source]) + offset
            produced += self.batch_size


# ------------------------------------------------------------------------ measuring
def _measure(fn: Callable[[], object], repeats: int,
             warmup: bool = True) -> Tuple[float, float]:
    """(median seconds without tracemalloc, peak MiB of one tracemalloc run)."""
    if warmup:
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(times), peak / 2**20


def _first_batch(sampler, epoch: int) -> List[int]:
    sampler.set_epoch(epoch)
    return list(itertools.islice(iter(sampler), sampler.batch_size))


def bench_mixed(num_labeled: int, num_unlabeled: int, epochs: Sequence[int], world: int,
                repeats: int, reference: bool) -> List[Dict]:
    dataset = ConcatDataset([_Indices(num_labeled), _Indices(num_unlabeled)])
    kwargs = dict(batch_size=64, source_ratio=[1, 1], seed=0)
    with _world(world):
        new = MixedRatioSampler(dataset, **kwargs)
        old = _QuadraticReferenceSampler(dataset, **kwargs)
    rows = []
    for epoch in epochs:
        row = dict(case=f'MixedRatio {num_labeled // 1000}K+{num_unlabeled // 1000}K',
                   epoch=epoch)
        row['new_s'], row['new_mib'] = _measure(lambda: _first_batch(new, epoch), repeats)
        if reference:
            row['ref_s'], row['ref_mib'] = _measure(lambda: _first_batch(old, epoch), 1,
                                                    warmup=False)
        rows.append(row)
        _print(row)
    return rows


def _crs_samplers(num_labeled: int, num_unlabeled: int, world: int):
    dataset = ConcatDataset([_Indices(num_labeled, seed=1), _Indices(num_unlabeled, seed=2)])
    epoch_length = num_unlabeled // (4 * world)
    made = []
    for cls in (ClassRebalancingSampler, _PerItemReferenceCrSSampler):
        sampler = cls(dataset, batch_size=5, source_ratio=[1, 4], labeled_oversample_thr=0.1,
                      seed=0, epoch_length=epoch_length)
        sampler.rank, sampler.world_size = 0, world
        factors = np.ones(num_unlabeled)
        factors[::5] = np.random.default_rng(3).uniform(1.0, 3.0, len(factors[::5]))
        sampler.set_unlabeled_repeat_factors(factors)
        made.append(sampler)
    return made


def bench_crs(num_labeled: int, num_unlabeled: int, epochs: Sequence[int], world: int,
              repeats: int, reference: bool) -> List[Dict]:
    new, old = _crs_samplers(num_labeled, num_unlabeled, world)
    rows = []

    def old_resumed(epoch: int) -> List[int]:
        old.start_run()  # a resumed job: replay epochs 0 .. e-1 to reach epoch e exactly
        for _ in range(epoch):
            for _ in iter(old):
                pass
        return list(itertools.islice(iter(old), old.batch_size))

    def old_running() -> List[int]:
        return list(itertools.islice(iter(old), old.batch_size))

    for epoch in epochs:
        row = dict(case=f'CrS {num_labeled / 1000:.1f}K+{num_unlabeled / 1000:.0f}K',
                   epoch=epoch)
        row['new_s'], row['new_mib'] = _measure(lambda: _first_batch(new, epoch), repeats)
        if reference:
            old.start_run()
            row['ref_running_s'], _ = _measure(old_running, repeats)
            row['ref_s'], row['ref_mib'] = _measure(lambda: old_resumed(epoch), 1, warmup=False)
        rows.append(row)
        _print(row)
    row = dict(case='CrS whole epoch (rank 0)', epoch=epochs[-1])
    row['new_s'], row['new_mib'] = _measure(
        lambda: (new.set_epoch(epochs[-1]), sum(1 for _ in new)), 1, warmup=False)
    if reference:
        old.start_run()
        row['ref_s'], row['ref_mib'] = _measure(lambda: sum(1 for _ in old), 1, warmup=False)
    rows.append(row)
    _print(row)
    return rows


def _print(row: Dict) -> None:
    ref = (f"{row['ref_s']:>10.3f} s {row['ref_mib']:>8.1f} MiB" if 'ref_s' in row else
           f"{'-':>12} {'-':>12}")
    running = (f"  (ref. running job: {row['ref_running_s'] * 1e6:.1f} us)"
               if 'ref_running_s' in row else '')
    print(f"{row['case']:<26} {row['epoch']:>6} {row['new_s']:>9.4f} s {row['new_mib']:>7.1f} "
          f'MiB {ref}{running}', flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--epochs', type=int, nargs='+', default=[1, 100, 400])
    parser.add_argument('--world-size', type=int, default=8)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--unlabeled', type=int, default=150_000)
    parser.add_argument('--labeled', type=int, nargs='+', default=[1_000, 10_000])
    parser.add_argument('--crs-sizes', type=int, nargs=2, default=[11_829, 118_287],
                        metavar=('LABELED', 'UNLABELED'))
    parser.add_argument('--no-reference', action='store_true',
                        help='skip the pre-fix implementations (minutes at epoch 400)')
    parser.add_argument('--out', help='also write the rows as JSON')
    args = parser.parse_args()
    print(f"{'case':<26} {'epoch':>6} {'new':>11} {'new peak':>11} {'reference':>12} "
          f"{'ref. peak':>12}")
    rows = []
    for num_labeled in args.labeled:
        rows += bench_mixed(num_labeled, args.unlabeled, args.epochs, args.world_size,
                            args.repeats, not args.no_reference)
    rows += bench_crs(*args.crs_sizes, args.epochs, args.world_size, args.repeats,
                      not args.no_reference)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(rows, f, indent=1)


if __name__ == '__main__':
    main()
