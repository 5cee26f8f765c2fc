"""One source's index stream under repeat factors, computable from any epoch or saved point.

The stream shared by all ranks is a sequence of *segments*. A segment starts at a global
position ``start`` with a vector of repeat factors and is a sequence of *rounds* drawn from
``keyed_rng(seed, source, epoch, start)``: a round holds image ``i`` ``floor(r_i)`` times
plus once more with probability ``frac(r_i)``, shuffled. A segment ends where the next one
starts (a factor update). Rank ``k`` of ``W`` reads the global positions ``k, k + W, ...``;
an update starts its segment at ``W * taken`` (``taken``: items this rank has read), the
same position on every rank while the ranks are in lockstep.

Each segment depends only on its key and factors, so the stream of epoch ``e`` is computed
without generating epochs ``< e`` and without the other ranks' items being walked one by one,
and a stream rebuilt from a saved segment list (:attr:`RepeatFactorStream.segments`)
continues exactly where the saved one was.
"""
import math
from typing import List, Sequence, Tuple

import numpy as np

from .keyed_rng import keyed_rng

Segment = Tuple[int, np.ndarray]  # (global start position, repeat factors)


def draw_round(factors: np.ndarray, rng: np.random.Generator, shuffle: bool = True) -> np.ndarray:
    """One round: index ``i`` ``floor(r_i)`` times plus once with probability ``frac(r_i)``.

    Args:
        factors (np.ndarray): (N, ) repeat factors, finite, >= 0, not all zero.
        rng (np.random.Generator): Source of randomness.
        shuffle (bool): Shuffle the round (else indices stay sorted). Defaults to True.

    Returns:
        np.ndarray: int64 indices into ``range(N)``; never empty.
    """
    whole = np.floor(factors)
    repeats = (whole + (rng.random(len(factors)) < factors - whole)).astype(np.int64)
    indices = np.repeat(np.arange(len(factors), dtype=np.int64), repeats)
    if indices.size == 0:  # every factor < 1 and no draw succeeded
        indices = rng.choice(len(factors), size=1, p=factors / factors.sum()).astype(np.int64)
    return rng.permutation(indices) if shuffle else indices


class RepeatFactorStream:
    """This rank's share of one source's repeat-factor stream in one epoch.

    Args:
        seed (int): Seed shared by all ranks.
        source (int): Source index (part of the stream key).
        epoch (int): Epoch index (part of the stream key).
        segments (Sequence[Segment]): Segments in increasing start order; the first must
            start at 0. Later ones are *planned* (a restored checkpoint) and begin when the
            stream reaches their start.
        rank (int): This rank. Defaults to 0.
        world_size (int): Number of ranks. Defaults to 1.
        shuffle (bool): Shuffle every round. Defaults to True.
        taken (int): Items this rank has already read (their rounds are generated again on
            the first :meth:`take`). Defaults to 0.
        history (int): Past segments kept in :attr:`segments` for checkpoints (the current
            one included), enough to cover batches a dataloader prefetched before the last
            update. Defaults to 2.
    """

    def __init__(self, seed: int, source: int, epoch: int, segments: Sequence[Segment],
                 rank: int = 0, world_size: int = 1, shuffle: bool = True, taken: int = 0,
                 history: int = 2) -> None:
        starts = [int(start) for start, _ in segments]
        if not starts or starts[0] != 0 or starts != sorted(set(starts)):
            raise ValueError(f'segments must start at 0 and increase strictly, got {starts}')
        if not 0 <= rank < world_size or history < 1:
            raise ValueError(f'need 0 <= rank < world_size and history >= 1, got {rank}, '
                             f'{world_size}, {history}')
        self.seed, self.source, self.epoch = int(seed), int(source), int(epoch)
        self.rank, self.world_size, self.shuffle = rank, world_size, shuffle
        self.history = history
        self.taken = int(taken)
        self.version = 0  # the owner's factor version this stream follows
        self._segments: List[Segment] = [(int(s), np.asarray(f, np.float64)) for s, f in segments]
        self._buffer = np.zeros(0, np.int64)  # global positions [_end - len, _end)
        self._end = 0
        self._begin(0)

    @property
    def position(self) -> int:
        """Global position where an update would start its segment (``W * taken``)."""
        return self.taken * self.world_size

    @property
    def segments(self) -> List[Segment]:
        """Kept past segments, the current one and planned ones (for checkpoints)."""
        return list(self._segments)

    def _begin(self, index: int) -> None:
        """Make segment ``index`` current; generation continues at its start."""
        drop = max(0, index - (self.history - 1))
        del self._segments[:drop]
        self._current = index - drop
        start, self._factors = self._segments[self._current]
        self._rng = keyed_rng(self.seed, self.source, self.epoch, start)
        if self._end >= start:  # drop what was generated past the new start
            self._buffer = self._buffer[:len(self._buffer) - (self._end - start)]
        else:  # the positions in between are never read by this rank
            self._buffer = self._buffer[:0]
        self._end = start

    def add_segment(self, factors: np.ndarray) -> None:
        """Start a segment with ``factors`` at :attr:`position` (a factor update); planned
        segments from there on are dropped."""
        start = self.position
        self._segments = [seg for seg in self._segments if seg[0] < start]
        self._segments.append((start, np.asarray(factors, np.float64)))
        self._begin(len(self._segments) - 1)

    def _extend(self, stop: int) -> None:
        """Generate global positions up to ``stop`` (rounds cut at planned starts)."""
        chunks = [self._buffer]
        while self._end < stop:
            nxt = self._current + 1
            next_start = self._segments[nxt][0] if nxt < len(self._segments) else math.inf
            if self._end >= next_start:
                self._buffer = np.concatenate(chunks)
                self._begin(nxt)
                chunks = [self._buffer]
                continue
            chunk = draw_round(self._factors, self._rng, self.shuffle)
            if self._end + len(chunk) > next_start:
                chunk = chunk[:int(next_start) - self._end]
            chunks.append(chunk)
            self._end += len(chunk)
        self._buffer = np.concatenate(chunks) if len(chunks) > 1 else chunks[0]

    def take(self, num: int) -> np.ndarray:
        """This rank's next ``num`` items (global positions ``W * taken + rank + W * j``)."""
        world = self.world_size
        first = self.taken * world + self.rank
        stop = first + (num - 1) * world + 1
        if self._end < stop:
            self._extend(stop)
        begin = first - (self._end - len(self._buffer))
        out = self._buffer[begin:begin + (num - 1) * world + 1:world]
        self.taken += num
        # keep only positions this rank (or an update) may still need
        self._buffer = self._buffer[max(0, len(self._buffer) - (self._end - self.taken * world)):]
        return out


__all__ = ['RepeatFactorStream', 'draw_round', 'Segment']
