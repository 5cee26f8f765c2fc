"""RepeatFactorStream / keyed_rng: rank shares interleave to the global stream, updates cut it
at the same position on every rank, and a stream rebuilt from its segments continues it."""
import numpy as np
import pytest

import mmssl.datasets.repeat_factor_stream as rfs
from mmssl.datasets.keyed_rng import keyed_rng
from mmssl.datasets.repeat_factor_stream import RepeatFactorStream, draw_round

FACTORS = np.random.default_rng(0).uniform(0.3, 3.0, 40)
UPDATE = np.where(np.arange(40) < 4, 6.0, 1.0)


def _run(world_size, batches, updates=(), per_take=3, seed=3):
    """Every rank takes ``per_take`` items per batch; ``updates``: {batch: factors}."""
    streams = [RepeatFactorStream(seed, 1, 0, [(0, FACTORS)], r, world_size)
               for r in range(world_size)]
    out = [[] for _ in streams]
    for b in range(batches):
        for s in streams:
            if b in dict(updates):
                s.add_segment(dict(updates)[b])
        for r, s in enumerate(streams):
            out[r].append(s.take(per_take))
    return streams, [np.concatenate(o) for o in out]


def test_keyed_rng_is_a_function_of_its_keys():
    draw = lambda *k: keyed_rng(*k).integers(0, 1 << 30, 4).tolist()  # noqa: E731
    assert draw(5, 1, 2) == draw(5, 1, 2)
    assert draw(5, 1) != draw(5, 1, 0)  # the key count is part of the entropy
    assert draw(5, 1, 2) != draw(6, 1, 2) != draw(5, 2, 2)
    with pytest.raises(ValueError, match='non-negative'):
        keyed_rng(0, -1)


def test_round_repeats_follow_the_factors():
    rng = np.random.default_rng(1)
    counts = sum(np.bincount(draw_round(FACTORS, rng), minlength=40) for _ in range(400))
    np.testing.assert_allclose(counts / 400, FACTORS, atol=0.12)
    assert draw_round(np.zeros(3) + [0, 0, 1e-9], rng).tolist() == [2]  # never empty


@pytest.mark.parametrize('world_size', [2, 3])
def test_ranks_interleave_to_the_single_stream_across_updates(world_size):
    updates = {4: UPDATE, 9: FACTORS}  # at batches 4 and 9 of a 3-rank run, 12 / 27 of 1 rank
    single = _run(1, 20 * world_size, {b * world_size: f for b, f in updates.items()})[1][0]
    ranks = _run(world_size, 20, updates)[1]
    np.testing.assert_array_equal(np.stack(ranks, 1).reshape(-1), single)


def test_rebuilt_stream_continues_exactly():
    streams, out = _run(1, 30, {5: UPDATE, 12: FACTORS, 20: UPDATE})
    saved = streams[0].segments
    assert [s for s, _ in saved] == [36, 60]  # history=2: the current and the previous one
    assert streams[0].taken == 90
    # as a resumed run: positions before the saved segments are filler, then exact
    again = RepeatFactorStream(3, 1, 0, [(0, saved[0][1])] + saved)
    replay = np.concatenate([again.take(3) for _ in range(30)])
    np.testing.assert_array_equal(replay[36:], out[0][36:])
    # rebuilt mid-way (``taken``): continues where the saved stream stands
    cont = RepeatFactorStream(3, 1, 0, [(0, saved[0][1])] + saved, taken=90)
    nxt = np.concatenate([cont.take(3) for _ in range(10)])
    np.testing.assert_array_equal(nxt, np.concatenate([streams[0].take(3) for _ in range(10)]))


def test_stream_of_an_epoch_uses_only_its_own_keys(monkeypatch):
    keys = []
    monkeypatch.setattr(rfs, 'keyed_rng', lambda *k: keys.append(k[1:]) or keyed_rng(*k))
    stream = RepeatFactorStream(3, 1, 250, [(0, FACTORS)])
    stream.take(5)
    stream.add_segment(UPDATE)
    stream.take(5)
    assert keys == [(1, 250, 0), (1, 250, 5)]  # (source, epoch, segment start)


def test_bad_segments_are_refused():
    with pytest.raises(ValueError, match='start at 0'):
        RepeatFactorStream(0, 0, 0, [(4, FACTORS)])
    with pytest.raises(ValueError, match='rank'):
        RepeatFactorStream(0, 0, 0, [(0, FACTORS)], rank=2, world_size=2)
