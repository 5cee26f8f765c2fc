"""Random generators that are pure functions of a key such as ``(seed, source, epoch)``.

The samplers draw every epoch (or stream segment) from its own generator instead of advancing
one generator over the whole run, so the indices of epoch ``e`` cost the same at epoch 1 and
at epoch 400, and a resumed run computes them without replaying the epochs before it.
"""
import numpy as np


def keyed_rng(seed: int, *keys: int) -> np.random.Generator:
    """A numpy generator determined by ``(seed, *keys)`` alone.

    The number of keys is part of the entropy: numpy's ``SeedSequence`` maps ``[a, b]`` and
    ``[a, b, 0]`` to the same state, which would give ``(seed, source)`` and
    ``(seed, source, epoch=0)`` the same stream.

    Args:
        seed (int): Base seed of the run (any integer; taken modulo 2**64).
        *keys (int): Non-negative integers naming the stream (source, epoch, position...).

    Returns:
        np.random.Generator: A fresh generator, identical for identical keys.
    """
    words = [int(seed) % (1 << 64), len(keys)]
    for key in keys:
        if int(key) < 0:
            raise ValueError(f'keyed_rng keys must be non-negative integers, got {keys}')
        words.append(int(key))
    return np.random.default_rng(np.random.SeedSequence(words))


__all__ = ['keyed_rng']
