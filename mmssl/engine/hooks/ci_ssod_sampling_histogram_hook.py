"""Per-class histograms of the instances in the sampled training images (RFS / CrS effect).

What a repeat-factor sampler changes is how often each class's instances reach training.
This hook counts, per class, the ground-truth instances of every image the training loop
draws - labeled images (RFS) and unlabeled images (CrS; their ground truth is kept by
``tools/misc/split_coco_imbalance.py`` and never used for training) - and the images drawn
per source::

    custom_hooks = [..., dict(type='CISSODSamplingHistogramHook', interval=500)]

Each image's class counts are read once from the datasets (``get_data_info``) into a sparse
(images x classes) matrix per source; an iteration sums the rows of the drawn images (image
ids of the batch's ``data_samples``: branch ``sup`` = labeled, ``unsup_teacher`` = unlabeled;
a plain batch is the first source). Every ``interval`` iterations the window is all-reduced
(collective, on every rank) and the cumulative counts logged with
``runner.visualizer.add_scalars``: ``ci_ssod_sampling/<source>/<class>`` and
``ci_ssod_sampling/<source>_images`` (source = ``labeled`` / ``unlabeled``), read by
``tools/analysis/plot_ci_ssod_analysis.py``; the MessageHub gets the minority share of the
sampled instances, ``train/sampling/min_share_<source>``, when minority classes are given.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from scipy import sparse

from .ci_ssod_pseudo_quality_hook import load_minority_classes

SOURCES = ('labeled', 'unlabeled')
#: batch branch of each source in mmdet's semi-supervised pipelines
BRANCHES = dict(labeled='sup', unlabeled='unsup_teacher')


def class_count_matrix(dataset, num_classes: int):
    """(CSR matrix (images x classes) of non-ignored instances, img_id -> row)."""
    rows, cols, index_of = [], [], {}
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        index_of[int(info['img_id'])] = i
        labels = [ins['bbox_label'] for ins in info.get('instances', [])
                  if not ins.get('ignore_flag', 0)]
        rows.extend([i] * len(labels))
        cols.extend(labels)
    data = np.ones(len(rows), dtype=np.float64)
    matrix = sparse.csr_matrix((data, (rows, cols)), shape=(len(dataset), num_classes))
    return matrix, index_of


@HOOKS.register_module()
class CISSODSamplingHistogramHook(Hook):
    """Sampled-instance histograms per class and source (see the module docstring).

    Args:
        interval (int): Iterations between all-reduce and logging. Defaults to 500.
        minority_classes (Sequence[str], optional): Minority class names (for the share).
        class_groups_file (str, optional): JSON with key ``minority_classes``, used when
            ``minority_classes`` is None.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self,
                 interval: int = 500,
                 minority_classes: Optional[Sequence[str]] = None,
                 class_groups_file: Optional[str] = None) -> None:
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        self.interval = interval
        self.minority_classes = load_minority_classes(minority_classes, class_groups_file)
        self.class_names: List[str] = []
        self._matrices: Dict[str, tuple] = {}
        self._pending: Optional[np.ndarray] = None  # (sources, classes + 1): + images
        self.totals: Optional[torch.Tensor] = None

    def before_train(self, runner) -> None:
        dataset = runner.train_dataloader.dataset
        sources = list(getattr(dataset, 'datasets', [dataset]))[:2]
        classes = list(sources[0].metainfo.get('classes', ()))
        if not classes:
            raise ValueError('CISSODSamplingHistogramHook: the training set has no classes '
                             'in its metainfo')
        self.class_names = classes
        self._matrices = {name: class_count_matrix(ds, len(classes))
                          for name, ds in zip(SOURCES, sources)}
        self._pending = np.zeros((len(SOURCES), len(classes) + 1))
        if self.totals is None:
            self.totals = torch.zeros(len(SOURCES), len(classes) + 1, dtype=torch.float64)
        if self.minority_classes is not None:
            unknown = sorted(set(self.minority_classes) - set(classes))
            if unknown:
                raise ValueError(f'CISSODSamplingHistogramHook: minority classes {unknown} '
                                 f'are not classes of the training set {classes}')

    @staticmethod
    def _img_ids(samples) -> List[int]:
        return [int(s.img_id) for s in samples or [] if s is not None]

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        samples = (data_batch or {}).get('data_samples')
        if isinstance(samples, dict):
            drawn = {src: self._img_ids(samples.get(branch)) for src, branch in BRANCHES.items()}
        else:
            drawn = dict(labeled=self._img_ids(samples))
        for k, src in enumerate(SOURCES):
            if src not in self._matrices or not drawn.get(src):
                continue
            matrix, index_of = self._matrices[src]
            try:
                rows = [index_of[i] for i in drawn[src]]
            except KeyError as err:
                raise KeyError(f'CISSODSamplingHistogramHook: drawn image {err.args[0]} is not '
                               f'in the {src} dataset') from err
            self._pending[k, :-1] += np.asarray(matrix[rows].sum(axis=0)).ravel()
            self._pending[k, -1] += len(rows)
        if self.every_n_train_iters(runner, self.interval):
            self._reduce_and_log(runner)

    def _reduce_and_log(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        device = next(model.parameters()).device
        window = torch.from_numpy(self._pending).to(device)
        all_reduce(window, op='sum')
        self.totals += window.cpu()
        self._pending[:] = 0
        scalars = {}
        hub = runner.message_hub
        for k, src in enumerate(SOURCES[:len(self._matrices)]):
            counts = self.totals[k]
            scalars.update({f'ci_ssod_sampling/{src}/{c}': float(v)
                            for c, v in zip(self.class_names, counts[:-1])})
            scalars[f'ci_ssod_sampling/{src}_images'] = float(counts[-1])
            if self.minority_classes is not None and float(counts[:-1].sum()) > 0:
                mask = torch.tensor([c in self.minority_classes for c in self.class_names])
                hub.update_scalar(f'train/sampling/min_share_{src}',
                                  float(counts[:-1][mask].sum() / counts[:-1].sum()))
        runner.visualizer.add_scalars(scalars, step=runner.iter + 1)
