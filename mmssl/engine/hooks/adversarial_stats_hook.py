"""Log what the paper's Figure 5 shows: G's predicted augmentation distributions next to the
pose network's loss distribution over the same bins, over training (seed 001).

Every ``interval`` iterations the hook writes, through the runner's visualizer (so every
backend gets them; ``vis_data/scalars.json`` for ``tools/analysis/plot_adversarial.py``):

* ``adv/pred_scale_i``, ``adv/pred_rotation_j``, ``adv/pred_occlusion_c``: G's predicted
  distributions averaged over the images G saw since the last point (all ranks);
* ``adv/loss_scale_i``, ``adv/loss_rotation_j``: D's loss on every bin of (up to
  ``max_samples`` of) the current batch, normalised to a distribution (the bin sweep of
  G's pre-training, D in eval mode);
* ``adv/track_kl_scale``, ``adv/track_kl_rotation``: KL(D's loss distribution || G's
  prediction), one number that falls while G tracks D.

The bin centres are written once to ``<log_dir>/adversarial_bins.json`` (atomically).
"""
import json
import os
import os.path as osp
import tempfile
from typing import Dict, Optional

import torch
from mmengine.dist import all_reduce, get_world_size, is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpose.registry import HOOKS


def _write_json_atomic(path: str, obj) -> None:
    folder = osp.dirname(path) or '.'
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.tmp_', suffix='.json')
    try:
        with os.fdopen(fd, 'w') as f:
            json.dump(obj, f, indent=1)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


@HOOKS.register_module()
class AdversarialDistributionHook(Hook):
    """Log G's predicted distributions and D's per-bin loss distributions.

    Args:
        interval: iterations between two logged points.
        max_samples: images of the current batch used by the per-bin loss sweep.
        sweep: ``'separate'`` (m + n forward passes) or ``'grid'`` (m x n).
    """

    priority = 'BELOW_NORMAL'

    def __init__(self, interval: int = 50, max_samples: int = 8,
                 sweep: str = 'separate') -> None:
        if sweep not in ('separate', 'grid'):
            raise ValueError(f"sweep must be 'separate' or 'grid', got {sweep!r}")
        self.interval, self.max_samples, self.sweep = interval, max_samples, sweep

    @staticmethod
    def _model(runner):
        from mmssl.models.augmenters import AdversarialPoseEstimator
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not isinstance(model, AdversarialPoseEstimator):
            raise TypeError('AdversarialDistributionHook needs an AdversarialPoseEstimator '
                            f'model, got {type(model).__name__}')
        return model

    def before_train(self, runner) -> None:
        model = self._model(runner)
        model.reset_prediction_stats()
        if is_main_process():
            _write_json_atomic(osp.join(runner.log_dir, 'adversarial_bins.json'), dict(
                scale=model.scale_bins.means.tolist(), scale_log2=model.scale_bins.log2,
                rotation=model.rotation_bins.means.tolist(), grid=list(model.grid),
                stage=model.stage, split=list(model.split)))

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if not self.every_n_train_iters(runner, self.interval):
            return
        model = self._model(runner)
        points = self._predictions(model)
        if data_batch is not None:
            points.update(self._loss_distributions(model, data_batch))
        for key in ('scale', 'rotation'):
            pred, loss = points.get(f'pred_{key}'), points.get(f'loss_{key}')
            if pred is not None and loss is not None:
                points[f'track_kl_{key}'] = torch.sum(
                    loss * (loss.clamp_min(1e-12).log() - pred.clamp_min(1e-12).log()))
        scalars = {}
        for name, value in points.items():
            if value.dim() == 0:
                scalars[f'adv/{name}'] = float(value)
            else:
                scalars.update({f'adv/{name}_{i}': float(v) for i, v in enumerate(value)})
        if scalars:
            runner.visualizer.add_scalars(scalars, step=runner.iter + 1)

    @staticmethod
    def _predictions(model) -> Dict[str, torch.Tensor]:
        out = {}
        for key, (total, count) in sorted(model.prediction_stats(reset=True).items()):
            total = total.clone()
            n = total.new_tensor(float(count))
            all_reduce(total)
            all_reduce(n)
            out[f'pred_{key}'] = total / n.clamp_min(1)
        return out

    def _loss_distributions(self, model, data_batch) -> Dict[str, torch.Tensor]:
        with torch.no_grad():
            data = model.data_preprocessor(data_batch, training=True)
            inputs, samples = data['inputs'][:self.max_samples], \
                data['data_samples'][:self.max_samples]
            batch = model.gather_targets(samples, inputs.device)
            p_s, p_r = model.difficulty_sweep(inputs, batch, self.sweep,
                                              model._generator(inputs.device, salt=2))
        out = dict(loss_scale=p_s.mean(0), loss_rotation=p_r.mean(0))
        world = get_world_size()
        for value in out.values():
            all_reduce(value)
            value /= world
        return out


def read_bins(log_dir: str) -> Optional[dict]:
    """The bin centres written by the hook, or None."""
    path = osp.join(log_dir, 'adversarial_bins.json')
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)
