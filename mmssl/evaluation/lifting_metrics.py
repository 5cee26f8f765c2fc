"""MPJPE of lifted 3D poses kept beside the 2D prediction (``pred_instances.keypoints_3d``).

MMPose's :class:`~mmpose.evaluation.MPJPE` reads the 3D pose from
``pred_instances.keypoints``, the field of a pose-lifter's output. A top-down estimator that
also lifts (:class:`~mmssl.models.lifting.LiftingTopdownPoseEstimator`) keeps its 2D
prediction there, for 2D metrics and visualizers, and writes the 3D pose to its own fields;
these subclasses point MMPose's metric at them:

* :class:`LiftingMPJPE` (``pred_key='keypoints_3d'``): ``MPJPE`` / ``P-MPJPE`` /
  ``N-MPJPE`` and the per-action keys, exactly as MMPose's metric names them.
* :class:`LiftingStageMPJPE` (``pred_key='stage_keypoints_3d'``, ``(1, S, K, 3)``): one
  key per stage, ``MPJPE_s1`` ... ``MPJPE_sS`` (``P-MPJPE_s1`` ... for ``mode='p-mpjpe'``).
* :class:`LiftingStagePCK` (``pred_key='stage_keypoints'``, ``(1, S, K, 2)``): 2D ``PCK_sN``
  and ``EPE_sN`` of every stage's decoded keypoints.
"""
from typing import Dict, List, Sequence

import numpy as np

from mmpose.evaluation.functional import keypoint_epe
from mmpose.evaluation.metrics import MPJPE, PCKAccuracy
from mmpose.registry import METRICS


@METRICS.register_module()
class LiftingMPJPE(MPJPE):
    """MMPose's :class:`MPJPE` on the 3D field ``pred_instances[pred_key]``.

    Args:
        pred_key: Field of ``pred_instances`` holding the ``(1, K, 3)`` 3D pose.
        **kwargs: Arguments of :class:`~mmpose.evaluation.MPJPE` (``mode``, ``skip_list``,
            ``collect_device``, ``prefix``).
    """

    def __init__(self, mode: str = 'mpjpe', pred_key: str = 'keypoints_3d', **kwargs) -> None:
        super().__init__(mode=mode, **kwargs)
        self.pred_key = pred_key

    def _pred(self, data_sample: dict) -> np.ndarray:
        pred = data_sample['pred_instances']
        if self.pred_key not in pred:
            raise KeyError(
                f'{type(self).__name__}: pred_instances has no {self.pred_key!r} (it has '
                f'{sorted(pred)}); a LiftingTopdownPoseEstimator writes keypoints_3d and '
                'stage_keypoints_3d unless test_cfg.output_3d=False')
        return np.asarray(pred[self.pred_key])

    def _with_keypoints(self, data_sample: dict, keypoints: np.ndarray) -> dict:
        """A shallow copy of ``data_sample`` whose ``pred_instances.keypoints`` is
        ``keypoints`` (what the base class reads)."""
        return dict(data_sample,
                    pred_instances=dict(data_sample['pred_instances'], keypoints=keypoints))

    def process(self, data_batch: Sequence[dict], data_samples: Sequence[dict]) -> None:
        super().process(data_batch, [self._with_keypoints(s, self._pred(s))
                                     for s in data_samples])


@METRICS.register_module()
class LiftingStageMPJPE(LiftingMPJPE):
    """Per-stage MPJPE of ``pred_instances.stage_keypoints_3d`` ``(1, S, K, 3)``.

    Produces ``{MODE}_s1`` ... ``{MODE}_sS`` (e.g. ``MPJPE_s1``, ``P-MPJPE_s2``): the error of
    the 3D pose lifted from each stage's belief maps; per-action keys are left out.

    Args:
        pred_key: Field of ``pred_instances`` with the per-stage poses.
        **kwargs: Arguments of :class:`LiftingMPJPE`.
    """

    def __init__(self, mode: str = 'mpjpe', pred_key: str = 'stage_keypoints_3d',
                 **kwargs) -> None:
        super().__init__(mode=mode, pred_key=pred_key, **kwargs)

    def _stages(self, data_sample: dict) -> np.ndarray:
        stages = super()._pred(data_sample)
        if stages.ndim != 4:
            raise ValueError(f'{self.pred_key} must be (instances, stages, K, 3), got '
                             f'{stages.shape}')
        return stages

    def _pred(self, data_sample: dict) -> np.ndarray:
        """The first stage: what the base class stores (with the ground truth)."""
        return self._stages(data_sample)[:, 0]

    def process(self, data_batch: Sequence[dict], data_samples: Sequence[dict]) -> None:
        """The base class's record per sample, with every stage's poses beside it."""
        for sample in data_samples:
            before = len(self.results)
            super().process(data_batch, [sample])
            if len(self.results) > before:  # not in skip_list
                self.results[-1]['stage_coords'] = self._stages(sample)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        if not results:
            return {}
        num_stages = results[0]['stage_coords'].shape[1]
        name = self.mode.upper()
        metrics: Dict[str, float] = {}
        for stage in range(num_stages):
            staged = [dict(r, pred_coords=r['stage_coords'][:, stage]) for r in results]
            metrics[f'{name}_s{stage + 1}'] = super().compute_metrics(staged)[name]
        return metrics


@METRICS.register_module()
class LiftingStagePCK(PCKAccuracy):
    """Per-stage 2D accuracy of ``pred_instances.stage_keypoints`` ``(1, S, K, 2)``.

    MMPose's :class:`PCKAccuracy` on every stage's decoded keypoints, plus the end-point
    error: keys ``PCK_s1`` ... ``PCK_sS`` (``PCKh_sN`` / ``tPCK_sN`` with other ``norm_item``)
    and ``EPE_s1`` ... ``EPE_sS`` (pixels). The fused-vs-plain comparison reads where along
    the stages the 2D prediction improves.

    Args:
        pred_key: Field of ``pred_instances`` with the per-stage keypoints.
        **kwargs: Arguments of :class:`~mmpose.evaluation.PCKAccuracy`.
    """

    def __init__(self, pred_key: str = 'stage_keypoints', **kwargs) -> None:
        super().__init__(**kwargs)
        self.pred_key = pred_key

    def process(self, data_batch: Sequence[dict], data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            pred = sample['pred_instances']
            if self.pred_key not in pred:
                raise KeyError(
                    f'{type(self).__name__}: pred_instances has no {self.pred_key!r} (it has '
                    f'{sorted(pred)}); a LiftingTopdownPoseEstimator with a multi-stage '
                    'backbone writes it')
            stages = np.asarray(pred[self.pred_key])
            if stages.ndim != 4:
                raise ValueError(f'{self.pred_key} must be (instances, stages, K, 2), got '
                                 f'{stages.shape}')
            super().process(data_batch, [dict(sample, pred_instances=dict(
                pred, keypoints=stages[:, 0]))])
            self.results[-1]['stage_coords'] = stages

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        if not results:
            return {}
        metrics: Dict[str, float] = {}
        for stage in range(results[0]['stage_coords'].shape[1]):
            staged = [dict(r, pred_coords=r['stage_coords'][:, stage]) for r in results]
            for key, value in super().compute_metrics(staged).items():
                metrics[f'{key}_s{stage + 1}'] = value
            pred = np.concatenate([r['pred_coords'] for r in staged])
            gt = np.concatenate([r['gt_coords'] for r in staged])
            mask = np.concatenate([r['mask'] for r in staged])
            metrics[f'EPE_s{stage + 1}'] = keypoint_epe(pred, gt, mask)
        return metrics
