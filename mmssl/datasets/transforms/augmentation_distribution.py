"""The augmentation-distribution file read by the ASR / AHO pipeline transforms (seed 001).

An :class:`~mmssl.models.augmenters.AdversarialPoseEstimator`'s augmentation network G
predicts, per image, a distribution over scale bins, over rotation bins and over the cells
of the occlusion grid. :func:`export_distribution` averages those predictions over a batch or
a whole dataset and writes them to one JSON file; the pipeline transforms
:class:`BinnedScaleRotation` and :class:`BinnedOcclusionCells` draw from it (or, without a
file, from uniform distributions: the random baseline).

Format (JSON, UTF-8; ``format`` and ``version`` are required, each block is optional)::

    {
      "format": "mmssl.augmentation_distribution",
      "version": 1,
      "scale":     {"means": [-0.6, ..., 0.6], "sigma": 0.05, "log2": true,
                    "probs": [m floats]},
      "rotation":  {"means": [-60, ..., 60], "sigma": 5.0, "log2": false,
                    "probs": [n floats]},
      "occlusion": {"grid": [gw, gh], "probs": [gw * gh floats, row-major]},
      "source": "free text: checkpoint, dataset, number of images averaged"
    }

``means`` / ``sigma`` / ``log2`` are :class:`~mmssl.models.augmenters.AugmentationBins`
settings (a drawn value is ``clip(mu + N(0, sigma), mu +- sigma)``, ``2 ** x`` when
``log2``); ``probs`` are non-negative and are renormalised to sum 1 on reading.
"""
import json
from typing import Dict, Iterable, Optional, Sequence

import numpy as np

from mmssl.utils.atomic_files import atomic_json_dump

FORMAT = 'mmssl.augmentation_distribution'
VERSION = 1
BLOCKS = ('scale', 'rotation', 'occlusion')


class DistributionFileError(ValueError):
    """An augmentation-distribution file that does not follow the format."""


def _probs(values, expected: int, where: str) -> np.ndarray:
    probs = np.asarray(values, dtype=np.float64).reshape(-1)
    if probs.size != expected:
        raise DistributionFileError(f'{where}: "probs" has {probs.size} entries, expected '
                                    f'{expected}')
    if not np.all(np.isfinite(probs)) or probs.min() < 0 or probs.sum() <= 0:
        raise DistributionFileError(f'{where}: "probs" must be finite, >= 0 and not all 0')
    return probs / probs.sum()


def validate_distribution(data: dict, where: str = 'distribution') -> dict:
    """Check ``data`` against the format; returns it with ``probs`` as normalised arrays."""
    if not isinstance(data, dict) or data.get('format') != FORMAT:
        raise DistributionFileError(f'{where}: not an augmentation-distribution file '
                                    f'("format" must be "{FORMAT}")')
    if data.get('version') != VERSION:
        raise DistributionFileError(f'{where}: version {data.get("version")!r} is not '
                                    f'supported (this mmssl reads version {VERSION})')
    out = dict(data)
    for name in ('scale', 'rotation'):
        if name not in data:
            continue
        block = dict(data[name])
        if 'means' not in block or len(block['means']) < 2:
            raise DistributionFileError(f'{where}: "{name}" needs "means" of >= 2 bins')
        block['probs'] = _probs(block.get('probs', np.ones(len(block['means']))),
                                len(block['means']), f'{where}: "{name}"')
        out[name] = block
    if 'occlusion' in data:
        block = dict(data['occlusion'])
        grid = block.get('grid')
        if grid is None or len(grid) != 2 or min(grid) < 1:
            raise DistributionFileError(f'{where}: "occlusion" needs "grid": [gw, gh]')
        block['grid'] = [int(g) for g in grid]
        block['probs'] = _probs(block.get('probs', np.ones(grid[0] * grid[1])),
                                grid[0] * grid[1], f'{where}: "occlusion"')
        out['occlusion'] = block
    return out


def load_distribution(path: str) -> dict:
    """Read and validate a distribution file (errors name the file)."""
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f'augmentation-distribution file {path} does not exist')
    except json.JSONDecodeError as err:
        raise DistributionFileError(f'{path}: not valid JSON ({err})')
    return validate_distribution(data, path)


def save_distribution(path: str, *, scale: Optional[dict] = None,
                      rotation: Optional[dict] = None, occlusion: Optional[dict] = None,
                      source: str = '') -> dict:
    """Write a distribution file atomically (a temporary file in the same folder, then
    renamed), after validating it; returns what was written."""
    data = dict(format=FORMAT, version=VERSION, source=str(source))
    for name, block in (('scale', scale), ('rotation', rotation), ('occlusion', occlusion)):
        if block is not None:
            data[name] = {k: (np.asarray(v).tolist() if isinstance(v, np.ndarray) else v)
                          for k, v in dict(block).items()}
    validate_distribution(data, path)
    atomic_json_dump(data, path, indent=2)
    return data


def export_distribution(model, batches: Iterable, path: str, source: str = '') -> dict:
    """Average G's predicted distributions over ``batches`` and write them to ``path``.

    Args:
        model: an ``AdversarialPoseEstimator`` (its ``capture_bridge``, ``augmenter``,
            ``scale_bins``, ``rotation_bins`` and ``grid`` are used; wrappers are unwrapped).
        batches: preprocessed input tensors ``[B, 3, H, W]`` (e.g. the ``inputs`` of the
            model's data preprocessor over a dataloader), standard crops as in training.
        path: the ``.json`` file to write.
        source: free text recorded in the file (checkpoint, dataset).
    """
    import torch
    import torch.nn.functional as F
    model = getattr(model, 'module', model)
    sums: Dict[str, torch.Tensor] = {}
    count = 0
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            for inputs in batches:
                logits = model.augmenter(model.capture_bridge(inputs))
                for key, value in logits.items():
                    probs = F.softmax(value.float(), -1).sum(0).cpu()
                    sums[key] = sums.get(key, 0) + probs
                count += int(inputs.shape[0])
    finally:
        model.train(was)
    if not count:
        raise ValueError('export_distribution: no batch to average over')
    blocks = {}
    if 'scale' in sums:
        blocks['scale'] = dict(model.scale_bins.to_dict(),
                               probs=(sums['scale'] / count).tolist())
    if 'rotation' in sums:
        blocks['rotation'] = dict(model.rotation_bins.to_dict(),
                                  probs=(sums['rotation'] / count).tolist())
    if 'occlusion' in sums:
        blocks['occlusion'] = dict(grid=list(model.grid),
                                   probs=(sums['occlusion'] / count).tolist())
    text = f'{source}; mean over {count} images'.lstrip('; ')
    return save_distribution(path, source=text, **blocks)


def uniform_block(num: int) -> np.ndarray:
    """Uniform probabilities over ``num`` bins or cells (the random baseline)."""
    return np.full(int(num), 1. / int(num))


def check_probs(probs: Sequence[float], num: int, where: str) -> np.ndarray:
    """Normalised probabilities given in a config (``probs=[...]``)."""
    return _probs(probs, num, where)


__all__ = ['FORMAT', 'VERSION', 'DistributionFileError', 'validate_distribution',
           'load_distribution', 'save_distribution', 'export_distribution', 'uniform_block',
           'check_probs']
