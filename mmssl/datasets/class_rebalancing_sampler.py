"""Class-rebalancing sampling (CrS) for semi-supervised detection (seed 004).

:class:`ClassRebalancingSampler` draws mixed labeled / unlabeled batches from a
``ConcatDataset([labeled, unlabeled])`` like mmdet's ``MultiSourceSampler``, but each source
is sampled by *repeat factors*:

* labeled images: repeat-factor sampling (RFS, LVIS): ``r(c) = max(1, sqrt(t / f(c)))`` with
  ``f(c)`` the fraction of labeled images containing class c, image factor = max over its
  classes (``t = labeled_oversample_thr``, 0.1 on COCO) - the factors of mmdet's
  ``ClassBalancedDataset``;
* unlabeled images: CrS factors from the teacher's pseudo-labels (:func:`crs_repeat_factors`),
  replaced during training with :meth:`ClassRebalancingSampler.set_unlabeled_repeat_factors`
  (``CrSRefreshHook``) without rebuilding the dataloader.

Each source is a stream of rounds: a round repeats image i ``floor(r_i)`` times plus once more
with probability ``frac(r_i)``, shuffled (:class:`RepeatFactorStream`). The stream is the same
on every rank (shared seed) and sliced by rank, as in mmdet's samplers. A factor update
starts a new round at the next stream position that is a multiple of the world size, which
every rank reaches at the same logical time, so ranks stay in lockstep after a refresh.
The sampler is infinite for ``IterBasedTrainLoop``; with ``epoch_length`` (batches per epoch)
it is finite and works with ``EpochBasedTrainLoop``. It shares the batch layout of mmdet's
``MultiSourceSampler`` (``num_per_source`` images of each source per batch, in source order)
but none of its drawing, epochs or state, so it is a sampler of its own rather than a
subclass.

Cost and resume. The stream of epoch ``e`` (``set_epoch``) is drawn from generators keyed by
``(seed, source, epoch, segment start)``: starting any epoch costs one round
(``O(len(source))`` vectorised work), never a replay of the epochs before, and a resumed
epoch-based run gets exactly the indices of an uninterrupted one. Within an epoch the streams
are read where they stand: :meth:`ClassRebalancingSampler.state_dict` (the seed, the factors
and the starts of the latest segments) lets ``CrSRefreshHook`` checkpoint them, so an
iteration-based run that mmengine resumes (it re-reads the dataloader up to the saved
iteration) continues with exactly the indices of the uninterrupted run, refreshes included.
Each epoch starts a fresh round (the last round of the epoch before is not continued), and
an epoch is repeated unless ``set_epoch`` is called (mmengine's ``DistSamplerSeedHook`` and
``IterBasedTrainLoop`` call it), as with mmengine's ``DefaultSampler``.
"""
import itertools
from typing import Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmdet.registry import DATA_SAMPLERS
from mmengine.dist import get_dist_info, sync_random_seed
from torch import Tensor
from torch.utils.data import Sampler

from .repeat_factor_stream import RepeatFactorStream, Segment

PseudoRecords = Mapping[int, Tuple[np.ndarray, np.ndarray]]


def class_repeat_factors(image_freq: np.ndarray, thr: float) -> np.ndarray:
    """``r(c) = max(1, sqrt(thr / f(c)))``; classes with ``f(c) = 0`` get 1."""
    image_freq = np.asarray(image_freq, dtype=np.float64)
    with np.errstate(divide='ignore'):
        rep = np.sqrt(np.where(image_freq > 0, thr / np.maximum(image_freq, 1e-300), 1.0))
    return np.maximum(rep, 1.0)


def _image_class_pairs(image_classes: Sequence[Sequence[int]],
                       num_classes: int) -> Tuple[np.ndarray, np.ndarray]:
    """Unique (image, class) pairs of a list of per-image class lists (sparse presence)."""
    rows = np.repeat(np.arange(len(image_classes)), [len(c) for c in image_classes])
    cols = np.fromiter(itertools.chain.from_iterable(image_classes), dtype=np.int64,
                       count=len(rows))
    if len(cols) and (cols.min() < 0 or cols.max() >= num_classes):
        raise ValueError(f'class index out of range [0, {num_classes}): '
                         f'{cols.min()}..{cols.max()}')
    flat = np.unique(rows * num_classes + cols)
    return flat // num_classes, flat % num_classes


def rfs_repeat_factors(image_classes: Sequence[Sequence[int]], num_classes: int,
                       thr: float) -> np.ndarray:
    """Repeat-factor sampling factors of labeled images (LVIS RFS).

    Args:
        image_classes: Class indices of each image's instances.
        num_classes (int): Number of classes.
        thr (float): Frequency threshold t.

    Returns:
        np.ndarray: (num_images, ) factors >= 1 (images without instances get 1).
    """
    num_images = len(image_classes)
    factors = np.ones(num_images)
    if num_images == 0:
        return factors
    rows, cols = _image_class_pairs(image_classes, num_classes)
    freq = np.bincount(cols, minlength=num_classes) / num_images
    np.maximum.at(factors, rows, class_repeat_factors(freq, thr)[cols])
    return factors


def crs_repeat_factors(labeled_classes: Sequence[Sequence[int]],
                       pseudo_records: Mapping[int, Tuple[np.ndarray, np.ndarray]],
                       num_unlabeled: int,
                       num_classes: int,
                       lam: float,
                       score_weighted: bool = True) -> np.ndarray:
    """Class-rebalancing repeat factors of unlabeled images.

    ``f(c)`` is the fraction of images containing class c among the labeled images and the
    pseudo-labeled ones (those with a record, whose pseudo-labels with margin >= 0 count);
    ``r(c) = max(1, sqrt(lam / f(c)))``; an unlabeled image's factor is
    ``max(1, max over its pseudo-labels of r(c) * margin)`` where ``margin`` is the
    pseudo-label's score minus its class threshold (release). Images without a record get 1.
    ``score_weighted=False`` drops the margin: ``max(1, max over its kept pseudo-labels of
    r(c))``, i.e. RFS on the pseudo-labels (seed Table 3, row RFS / RFS).

    Args:
        labeled_classes: Class indices of each labeled image's instances.
        pseudo_records: Unlabeled image index -> (labels (K, ), margins (K, )).
        num_unlabeled (int): Number of unlabeled images.
        num_classes (int): Number of classes.
        lam (float): lambda, the frequency threshold (grows to 0.5 on COCO).
        score_weighted (bool): CrS (True) or RFS on the pseudo-labels (False).

    Returns:
        np.ndarray: (num_unlabeled, ) factors >= 1.
    """
    factors = np.ones(num_unlabeled)
    if not pseudo_records or lam <= 0:
        return factors
    indices = np.fromiter(pseudo_records.keys(), dtype=np.int64, count=len(pseudo_records))
    if indices.min() < 0 or indices.max() >= num_unlabeled:
        raise ValueError(f'pseudo-label record for unlabeled index outside [0, {num_unlabeled})')
    labels = [np.asarray(pseudo_records[i][0], dtype=np.int64).reshape(-1) for i in indices]
    margins = [np.asarray(pseudo_records[i][1], dtype=np.float64).reshape(-1) for i in indices]
    flat_labels = np.concatenate(labels)
    flat_margins = np.concatenate(margins)
    if len(flat_labels) != len(flat_margins):
        raise ValueError('every pseudo-label record needs as many margins as labels')
    if len(flat_labels) and (flat_labels.min() < 0 or flat_labels.max() >= num_classes):
        raise ValueError(f'pseudo-label class index out of range [0, {num_classes})')
    _, lab_cols = _image_class_pairs(labeled_classes, num_classes)
    kept = [lab[m >= 0] for lab, m in zip(labels, margins)]
    _, pse_cols = _image_class_pairs(kept, num_classes)
    freq = (np.bincount(lab_cols, minlength=num_classes) +
            np.bincount(pse_cols, minlength=num_classes)) / max(
                len(labeled_classes) + len(indices), 1)
    rep = class_repeat_factors(freq, lam)
    owner = np.repeat(indices, [len(lab) for lab in labels])
    if score_weighted:
        np.maximum.at(factors, owner, rep[flat_labels] * flat_margins)
    else:
        valid = flat_margins >= 0
        np.maximum.at(factors, owner[valid], rep[flat_labels[valid]])
    return factors


@DATA_SAMPLERS.register_module()
class ClassRebalancingSampler(Sampler):
    """Labeled RFS + unlabeled CrS multi-source sampler (see the module docstring).

    Args:
        dataset: ``ConcatDataset`` of exactly two detection datasets (labeled, unlabeled).
        batch_size (int): Images per batch and rank (must equal the dataloader's).
        source_ratio (list): Labeled : unlabeled images per batch, e.g. [1, 4].
        labeled_oversample_thr (float): RFS threshold t of the labeled set; 0 disables RFS.
            Defaults to 0.1.
        shuffle (bool): Shuffle each round. Defaults to True.
        seed (int, optional): Shared random seed; None syncs a random one across ranks.
        epoch_length (int, optional): Batches per epoch for epoch-based loops; None makes
            the sampler infinite (iteration-based loops). Defaults to None.
    """

    def __init__(self,
                 dataset,
                 batch_size: int,
                 source_ratio: List[Union[int, float]],
                 labeled_oversample_thr: float = 0.1,
                 shuffle: bool = True,
                 seed: Optional[int] = None,
                 epoch_length: Optional[int] = None) -> None:
        if not hasattr(dataset, 'cumulative_sizes') or not hasattr(dataset, 'datasets'):
            raise TypeError(f'ClassRebalancingSampler needs a ConcatDataset, got '
                            f'{type(dataset).__name__}')
        if len(dataset.datasets) != 2:
            raise ValueError('ClassRebalancingSampler needs ConcatDataset([labeled, '
                             f'unlabeled]), got {len(dataset.datasets)} datasets')
        if labeled_oversample_thr < 0:
            raise ValueError(f'labeled_oversample_thr must be >= 0, got {labeled_oversample_thr}')
        if epoch_length is not None and epoch_length < 1:
            raise ValueError(f'epoch_length must be >= 1 or None, got {epoch_length}')
        self.rank, self.world_size = get_dist_info()
        self.dataset = dataset
        self.cumulative_sizes = [0] + list(dataset.cumulative_sizes)
        self.batch_size = batch_size
        self.source_ratio = list(source_ratio)
        self.num_per_source = self.images_per_source(batch_size, self.source_ratio)
        self.seed = sync_random_seed() if seed is None else seed
        self.shuffle = shuffle
        self.epoch_length = epoch_length
        self.labeled_oversample_thr = labeled_oversample_thr
        labeled, unlabeled = dataset.datasets
        self.num_classes = len(labeled.metainfo['classes'])
        self._labeled_classes: Optional[List[List[int]]] = None
        self._img_id_to_index: Optional[Dict[int, int]] = None
        if labeled_oversample_thr > 0:
            labeled_factors = rfs_repeat_factors(self.labeled_classes, self.num_classes,
                                                 labeled_oversample_thr)
        else:
            labeled_factors = np.ones(len(labeled))
        self._factors = [torch.as_tensor(labeled_factors, dtype=torch.float64),
                         torch.ones(len(unlabeled), dtype=torch.float64)]
        self._versions = [0, 0]
        self.epoch = 0
        self._streams: Optional[List[RepeatFactorStream]] = None  # the latest iterator's
        self._restored: Optional[Tuple[int, List[List[Segment]]]] = None

    @staticmethod
    def images_per_source(batch_size: int, source_ratio: List[Union[int, float]]) -> List[int]:
        """Images of each source per batch: ``int(batch_size * r / sum(ratio))`` for the
        unlabeled source, the rest labeled (mmdet ``MultiSourceSampler``'s split)."""
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f'batch_size must be a positive int, got {batch_size!r}')
        if len(source_ratio) != 2 or min(source_ratio) < 0 or sum(source_ratio) <= 0:
            raise ValueError('source_ratio must be [labeled, unlabeled] with non-negative '
                             f'entries and a positive sum, got {source_ratio}')
        num = [int(batch_size * r / sum(source_ratio)) for r in source_ratio]
        num[0] = batch_size - sum(num[1:])
        return num

    # ------------------------------------------------------------- dataset info
    @property
    def labeled_classes(self) -> List[List[int]]:
        """Class indices of every labeled image's instances (cached)."""
        if self._labeled_classes is None:
            labeled = self.dataset.datasets[0]
            self._labeled_classes = [list(labeled.get_cat_ids(i)) for i in range(len(labeled))]
        return self._labeled_classes

    def unlabeled_index(self, img_id: int) -> Optional[int]:
        """Index in the unlabeled dataset of the image with COCO id ``img_id``."""
        if self._img_id_to_index is None:
            unlabeled = self.dataset.datasets[1]
            self._img_id_to_index = {
                int(unlabeled.get_data_info(i)['img_id']): i
                for i in range(len(unlabeled))
            }
        return self._img_id_to_index.get(int(img_id))

    # ----------------------------------------------------------------- factors
    @property
    def repeat_factors(self) -> Tuple[Tensor, Tensor]:
        """Current (labeled, unlabeled) repeat factors."""
        return self._factors[0], self._factors[1]

    def _set_factors(self, source: int, factors) -> None:
        factors = torch.as_tensor(np.asarray(factors), dtype=torch.float64).flatten()
        expected = len(self.dataset.datasets[source])
        if factors.numel() != expected:
            raise ValueError(f'got {factors.numel()} repeat factors for source {source} with '
                             f'{expected} images')
        if not bool(torch.isfinite(factors).all()) or bool((factors < 0).any()) or \
                float(factors.sum()) <= 0:
            raise ValueError('repeat factors must be finite, >= 0 and not all zero')
        self._factors[source] = factors
        self._versions[source] += 1

    def set_unlabeled_repeat_factors(self, factors) -> None:
        """Replace the unlabeled repeat factors; takes effect at the next stream step."""
        self._set_factors(1, factors)

    def update_from_pseudo_labels(self, records_by_img_id: Mapping[int, Tuple[np.ndarray,
                                                                            np.ndarray]],
                                  lam: float, score_weighted: bool = True) -> np.ndarray:
        """Recompute the unlabeled factors from pseudo-label records (see
        :func:`crs_repeat_factors`, ``score_weighted=False``: RFS on the pseudo-labels);
        records of unknown image ids are ignored.

        Returns:
            np.ndarray: The new unlabeled factors.
        """
        records = {}
        for img_id, record in records_by_img_id.items():
            idx = self.unlabeled_index(img_id)
            if idx is not None:
                records[idx] = record
        factors = crs_repeat_factors(self.labeled_classes, records,
                                     len(self.dataset.datasets[1]), self.num_classes, lam,
                                     score_weighted)
        self.set_unlabeled_repeat_factors(factors)
        return factors

    # --------------------------------------------------------------- streams
    def _new_stream(self, source: int, segments: Optional[List[Segment]] = None,
                    taken: int = 0, epoch: Optional[int] = None) -> RepeatFactorStream:
        """This rank's stream of ``source`` in ``epoch`` (default: the current one)."""
        if segments is None:
            segments = [(0, self._factors[source].numpy())]
        elif segments[0][0] != 0:  # positions before the saved segments: never trained on
            segments = [(0, segments[0][1])] + list(segments)
        epoch = self.epoch if epoch is None else epoch
        stream = RepeatFactorStream(self.seed, source, epoch, segments, self.rank,
                                    self.world_size, self.shuffle, taken)
        stream.version = self._versions[source]
        return stream

    def __iter__(self) -> Iterator[int]:
        plan: List[Optional[List[Segment]]] = [None, None]
        if self._restored is not None and self._restored[0] == self.epoch:
            plan, self._restored = list(self._restored[1]), None
        streams = self._streams = [self._new_stream(s, plan[s]) for s in range(2)]
        total = None if self.epoch_length is None else self.epoch_length * self.batch_size
        produced = 0
        while total is None or produced < total:
            self._apply_updates(streams)
            for source, num in enumerate(self.num_per_source):
                yield from (streams[source].take(num) + self.cumulative_sizes[source]).tolist()
            produced += self.batch_size

    def _apply_updates(self, streams: List[RepeatFactorStream]) -> None:
        """Start a segment in every stream whose factors were replaced since its last batch
        (at the stream's current position: the same whether done now or at its next batch)."""
        for source, stream in enumerate(streams):
            if stream.version != self._versions[source]:
                stream.add_segment(self._factors[source].numpy())
                stream.version = self._versions[source]

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose streams the next iterator reads (called by the loops)."""
        if epoch < 0:
            raise ValueError(f'epoch must be >= 0, got {epoch}')
        self.epoch = int(epoch)

    # ------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict:
        """The seed, factors and stream segments of the latest iterator (identical on every
        rank in lockstep), as ints and tensors (safe for ``weights_only`` loading)."""
        if self._streams is None:
            epoch = self.epoch
            segments = [[(0, self._factors[s].numpy())] for s in range(2)]
        else:
            self._apply_updates(self._streams)  # a refresh not yet read is part of the state
            epoch = self._streams[0].epoch
            segments = [stream.segments for stream in self._streams]
        return dict(
            seed=int(self.seed), epoch=int(epoch), versions=list(self._versions),
            starts=[torch.tensor([start for start, _ in segs], dtype=torch.long)
                    for segs in segments],
            factors=[[torch.from_numpy(np.array(f, np.float64)) for _, f in segs]
                     for segs in segments])

    def load_state_dict(self, state: Mapping) -> None:
        """Continue the streams of :meth:`state_dict`.

        The seed and factors are restored, and the iterator of the saved epoch (the running,
        prefetching one, or the next one to start) follows the saved segments, so re-reading
        the dataloader up to the saved iteration gives exactly the indices of the
        uninterrupted run from there on.
        """
        plan: List[List[Segment]] = []
        for source in range(2):
            starts = [int(x) for x in state['starts'][source].tolist()]
            factors = [torch.as_tensor(f, dtype=torch.float64) for f in state['factors'][source]]
            expected = len(self.dataset.datasets[source])
            if not starts or len(starts) != len(factors) or \
                    any(f.numel() != expected for f in factors):
                raise ValueError(f'sampler state of source {source} does not match its '
                                 f'{expected} images (another dataset or split?)')
            self._factors[source] = factors[-1]
            plan.append([(st, f.numpy()) for st, f in zip(starts, factors)])
        self.seed = int(state['seed'])
        self._versions = [int(v) for v in state['versions']]
        epoch = int(state['epoch'])
        live = self._streams
        if live is not None and live[0].epoch == epoch:  # a prefetching iterator is running
            for source in range(2):
                live[source] = self._new_stream(source, plan[source], live[source].taken,
                                                epoch)
            self._restored = None
        else:
            self._restored = (epoch, plan)

    def __len__(self) -> int:
        if self.epoch_length is not None:
            return self.epoch_length * self.batch_size
        return len(self.dataset)

    def expected_draw_rates(self) -> Tuple[Tensor, Tensor]:
        """Probability that a draw of each source picks each image (factor / total)."""
        return tuple(f / f.sum() for f in self._factors)  # type: ignore[return-value]


__all__ = [
    'ClassRebalancingSampler', 'class_repeat_factors', 'rfs_repeat_factors',
    'crs_repeat_factors', 'PseudoRecords'
]
