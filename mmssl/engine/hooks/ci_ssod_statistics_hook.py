"""Per-iteration update and logging of the CI-SSOD statistics (GbR weights, GbT thresholds).

Add to ``custom_hooks`` of any config that uses ``GbRCrossEntropyLoss`` or ``CISoftTeacher``::

    custom_hooks = [dict(type='CISSODStatisticsHook', interval=50,
                         minority_classes=['person', ...])]

After every training iteration (on every rank: the updates all-reduce) it calls ``step()``
of each GbR loss of the student and the detector's GbT update, then logs

* through the MessageHub (text log and every visualizer backend, every logger interval):
  group means (majority / minority / background) of the class weights ``gbr/w_*``, of the
  thresholds ``gbt/thr_*``, of the positive and negative gradients the loss really applied
  and their balance residual ``gbr/pos_*``, ``gbr/neg_*``, ``gbr/res_*`` (branches combined)
  and ``gbr/{pos,neg,res}_<branch>_*`` (per branch, e.g. ``sup`` / ``unsup``), and the
  pseudo-label count per iteration ``pseudo/num_*``;
* through ``runner.visualizer.add_scalars`` every ``interval`` iterations: the per-class
  vectors ``ci_ssod/<stat>/<class>`` (``w``, ``thr``, ``score``, ``pseudo``; applied
  gradients ``pos_app``, ``neg_app``, ``res_app`` and ``*_app_<branch>``; the solver's matrix
  ``pos``, ``neg`` and its fixed point ``pos_w``, ``neg_w``), read by
  ``tools/analysis/plot_ci_ssod.py``.

The applied gradients are those of the GbR loss output (see
:mod:`mmssl.models.detectors.applied_gradients`); ``pos_w``/``neg_w`` (the accumulated matrix
with ``w`` on every row) balance by construction and are kept for the solver's view only.
"""
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from torch import Tensor

from mmssl.models.detectors.gbr_loss import GbRCrossEntropyLoss


def _unwrap(model):
    return model.module if is_model_wrapper(model) else model


def find_gbr_losses(model) -> List[GbRCrossEntropyLoss]:
    """GbR losses of the trained detector (the student of a teacher-student model)."""
    model = _unwrap(model)
    trained = getattr(model, 'student', model)
    return [m for m in trained.modules() if isinstance(m, GbRCrossEntropyLoss)]


@HOOKS.register_module()
class CISSODStatisticsHook(Hook):
    """Steps and logs GbR / GbT statistics once per training iteration.

    Args:
        interval (int): Iterations between per-class visualizer logs. Defaults to 50.
        minority_classes (Sequence[str], optional): Class names of the minority group;
            the others are the majority. None logs a single 'all' group.
        class_groups_file (str, optional): JSON file with key ``minority_classes`` (written
            by ``tools/misc/split_coco_imbalance.py``), used when ``minority_classes`` is
            None.
        log_per_class (bool): Write the per-class vectors. Defaults to True.
    """

    priority = 'ABOVE_NORMAL'  # before the LoggerHook reads the MessageHub

    def __init__(self,
                 interval: int = 50,
                 minority_classes: Optional[Sequence[str]] = None,
                 class_groups_file: Optional[str] = None,
                 log_per_class: bool = True) -> None:
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        if minority_classes is None and class_groups_file is not None:
            if not osp.isfile(class_groups_file):
                raise FileNotFoundError(f'class_groups_file not found: {class_groups_file}')
            with open(class_groups_file) as f:
                groups = json.load(f)
            if 'minority_classes' not in groups:
                raise KeyError(f"{class_groups_file} has no key 'minority_classes'")
            minority_classes = groups['minority_classes']
        self.interval = interval
        self.minority_classes = None if minority_classes is None else list(minority_classes)
        self.log_per_class = log_per_class
        self.class_names: List[str] = []
        self._groups: Dict[str, Tensor] = {}
        self._pseudo_sum: Optional[Tensor] = None

    def before_train(self, runner) -> None:
        model = _unwrap(runner.model)
        if not find_gbr_losses(model) and not hasattr(model, 'step_ci_statistics'):
            raise ValueError('CISSODStatisticsHook: the model has neither a '
                             'GbRCrossEntropyLoss (roi_head.bbox_head.loss_cls) nor GbT '
                             "statistics (type='CISoftTeacher'); remove the hook or use them")
        dataset = runner.train_dataloader.dataset
        classes = list(dataset.metainfo.get('classes', ()))
        num_classes = self._num_classes(model)
        if len(classes) != num_classes:
            classes = [str(i) for i in range(num_classes)]
        self.class_names = classes
        groups = {}
        if self.minority_classes is None:
            groups['all'] = torch.ones(num_classes, dtype=torch.bool)
        else:
            unknown = sorted(set(self.minority_classes) - set(classes))
            if unknown:
                raise ValueError(f'CISSODStatisticsHook: minority classes {unknown} are not '
                                 f'classes of the training set {classes}')
            minority = torch.tensor([c in self.minority_classes for c in classes])
            groups['maj'] = ~minority
            groups['min'] = minority
        self._groups = groups

    @staticmethod
    def _num_classes(model) -> int:
        losses = find_gbr_losses(model)
        if losses:
            return losses[0].num_classes
        return model.gbt.num_classes

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        model = _unwrap(runner.model)
        losses = find_gbr_losses(model)
        for loss in losses:
            loss.step()
        stats: Dict[str, Tensor] = {}
        if losses:
            gbr = losses[0]
            stats['w'] = gbr.class_weights.detach().cpu()
            stats.update({k: v.detach().cpu() for k, v in gbr.gradient_norms().items()})
        if hasattr(model, 'step_ci_statistics'):
            gbt = model.step_ci_statistics()
            stats.update({k: v.detach().cpu() for k, v in gbt.items()})
        self._log(runner, stats)

    def _log(self, runner, stats: Dict[str, Tensor]) -> None:
        hub = runner.message_hub
        num = len(self.class_names)
        group_means = [('w', 'gbr/w'), ('thr', 'gbt/thr')]
        for key in stats:
            if key.startswith(('pos_app', 'neg_app', 'res_app')):  # e.g. pos_app_unsup
                group_means.append((key, 'gbr/' + key.replace('_app', '', 1)))
        for group, mask in self._groups.items():
            for key, name in group_means:
                if key in stats:
                    hub.update_scalar(f'train/{name}_{group}',
                                      float(stats[key][:num][mask].mean()))
            if 'pseudo' in stats:
                hub.update_scalar(f'train/pseudo/num_{group}',
                                  float(stats['pseudo'][mask].sum()))
        if 'w' in stats:
            hub.update_scalar('train/gbr/w_bg', float(stats['w'][-1]))
        if 'pseudo' in stats:
            self._pseudo_sum = stats['pseudo'] if self._pseudo_sum is None else \
                self._pseudo_sum + stats['pseudo']
        if not self.log_per_class or not self.every_n_train_iters(runner, self.interval):
            return
        names = self.class_names + ['background']
        scalars = {}
        for key, vec in stats.items():
            if key == 'pseudo':
                vec = self._pseudo_sum
            for i, value in enumerate(vec.tolist()):
                scalars[f'ci_ssod/{key}/{names[i]}'] = value
        self._pseudo_sum = None
        if scalars:
            runner.visualizer.add_scalars(scalars, step=runner.iter + 1)
