"""Top-down estimator that lifts its 2D predictions to 3D (Human3.6M-style evaluation)."""
import copy
from collections import OrderedDict
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.registry import MODELS
from mmpose.utils.typing import SampleList
from .fusion import LiftingBeliefFusion
from .lifter import LiftingResult, PPCAMixtureLifter


@MODELS.register_module()
class LiftingTopdownPoseEstimator(TopdownPoseEstimator):
    """:class:`TopdownPoseEstimator` whose predictions are also lifted to 3D.

    Training is unchanged (the head's per-stage heat-map losses); the fusion statistics of a
    :class:`~.lifting_cpm.LiftingCPM` backbone (``lift_w_proj_sN``, ``lift_w_belief_sN``,
    ``lift_valid_sN``) join the logged variables in :meth:`parse_losses`, after the step, so
    the forward pass never waits for the device.

    ``predict`` keeps MMPose's 2D result and adds the 3D fields, so 2D metrics (``PCKAccuracy``,
    ``EPE``), visualizers and inferencers see an ordinary top-down result beside the 3D one:

    * ``pred_instances.keypoints`` ``(1, K, 2)``, ``keypoint_scores``: the 2D prediction in
      image pixels (unchanged).
    * ``pred_instances.keypoints_3d`` ``(1, K, 3)``: the lifted 3D pose in millimetres,
      root-relative, camera frame ``(x right, depth, up)``; ``lifting_valid`` ``(1,)``
      whether the person had enough visible joints to be lifted.
    * ``pred_instances.stage_keypoints_3d`` ``(1, S - 1, K, 3)`` (LiftingCPM backbones): the
      3D pose lifted from each fused stage's belief maps (the un-flipped pass under flip
      test), in the same frame; per-stage errors show what the fusion does stage by stage.
    * ``pred_instances.stage_keypoints`` ``(1, S, K, 2)`` (multi-stage backbones): every
      stage's belief maps decoded by the head's codec (the un-flipped pass), in image pixels;
      the last stage is the final prediction without flip test.

    :class:`mmssl.evaluation.LiftingMPJPE` and :class:`~mmssl.evaluation.LiftingStageMPJPE`
    read the 3D fields. Test-time keys of ``test_cfg`` besides the base ones: ``output_3d``
    (default True) and ``lift_score_thr`` (keypoints scoring below it are not visible to the
    lifting; default: the backbone fusion's ``vis_thr``, else 0.1).

    Args:
        lifter: Optional lifter config; by default the backbone's ``lifter`` is used.
        **kwargs: Arguments of :class:`TopdownPoseEstimator`.
    """

    def __init__(self, *args, lifter: Optional[dict] = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.own_lifter = MODELS.build(copy.deepcopy(lifter)) if lifter is not None else None
        if self.own_lifter is None and not isinstance(
                getattr(self.backbone, 'lifter', None), PPCAMixtureLifter):
            raise ValueError('LiftingTopdownPoseEstimator needs a lifter: give lifter=dict('
                             "type='PPCAMixtureLifter', prior=...) or a backbone with one "
                             '(e.g. LiftingCPM)')
        self._stage_records: Optional[List[Sequence[Optional[LiftingResult]]]] = None

    @property
    def lifter(self) -> PPCAMixtureLifter:
        """The estimator's own lifter, else the backbone's (kept once in checkpoints)."""
        return self.own_lifter if self.own_lifter is not None else self.backbone.lifter

    @property
    def fusion(self) -> Optional[LiftingBeliefFusion]:
        """The backbone's fusion module, if it has one."""
        fusion = getattr(self.backbone, 'fusion', None)
        return fusion if isinstance(fusion, LiftingBeliefFusion) else None

    def parse_losses(self, losses: dict) -> Tuple[Tensor, dict]:
        """The base class's loss and log variables plus the fusion statistics of the step.

        Both ``train_step`` of the model and of MMEngine's DDP wrapper call this, after the
        forward; the statistics are detached tensors, converted when the runner logs them.
        """
        loss, log_vars = super().parse_losses(losses)
        if self.fusion is not None:
            log_vars = OrderedDict(log_vars, **self.fusion.pop_stats())
        return loss, log_vars

    def extract_feat(self, inputs: Tensor) -> Tuple[Tensor]:
        """Backbone (and neck) features; inside :meth:`predict` also records the stage
        liftings of every backbone pass (the first is the un-flipped input)."""
        feats = super().extract_feat(inputs)
        if self._stage_records is not None:
            liftings = self.backbone.stage_liftings() if hasattr(
                self.backbone, 'stage_liftings') else None
            self._stage_records.append((liftings, feats))
        return feats

    def predict(self, inputs: Tensor, data_samples: SampleList) -> SampleList:
        """2D prediction of the base class, then batched lifting of every instance."""
        self._stage_records = []
        try:
            results = super().predict(inputs, data_samples)
        finally:
            records, self._stage_records = self._stage_records, None
        if not self.test_cfg.get('output_3d', True) or not results:
            return results
        fusion = self.fusion
        thr = self.test_cfg.get('lift_score_thr', getattr(fusion, 'vis_thr', 0.1))
        kpts = np.concatenate([np.asarray(r.pred_instances.keypoints)[..., :2] for r in results])
        scores = np.concatenate([np.asarray(r.pred_instances.keypoint_scores) for r in results])
        counts = [len(r.pred_instances) for r in results]
        dev = inputs.device
        with torch.no_grad():
            lifted = self.lifter(
                torch.from_numpy(kpts).to(dev, torch.float64),
                torch.from_numpy(scores > thr).to(dev))
        poses = lifted.poses_3d.cpu().numpy().astype(np.float32)
        valid = lifted.valid.cpu().numpy()
        liftings, feats = records[0] if records else (None, None)
        stages = self._stage_poses(liftings, len(poses))
        stage_2d = self._stage_keypoints(feats, results)
        start = 0
        for res, n in zip(results, counts):
            inst = res.pred_instances
            inst.keypoints_3d = poses[start:start + n]
            inst.lifting_valid = valid[start:start + n]
            if stages is not None:
                inst.stage_keypoints_3d = stages[start:start + n]
            if stage_2d is not None:
                inst.stage_keypoints = stage_2d[start:start + n]
            start += n
        return results

    def _stage_keypoints(self, feats, results: SampleList) -> Optional[np.ndarray]:
        """``(N, S, K, 2)`` image-pixel keypoints decoded from every stage's maps (one
        top-down crop per sample), mapped to the image as MMPose's top-down estimator maps
        its final prediction; ``None`` for single-output backbones."""
        if not isinstance(feats, (list, tuple)) or len(feats) < 2 or \
                any(f.dim() != 4 or len(f) != len(results) for f in feats):
            return None
        per_stage = []
        for maps in feats:
            decoded = self.head.decode(maps.detach())
            kpts = np.stack([np.asarray(d.keypoints)[..., :2] for d in decoded])  # N, 1, K, 2
            per_stage.append(kpts[:, 0])
        kpts = np.stack(per_stage, 1)  # N, S, K, 2 in input pixels
        for i, res in enumerate(results):
            size = np.asarray(res.metainfo['input_size'], np.float32)
            center = np.asarray(res.metainfo['input_center'], np.float32)
            scale = np.asarray(res.metainfo['input_scale'], np.float32)
            kpts[i] = kpts[i] / size * scale + center - 0.5 * scale
        return kpts.astype(np.float32)

    @staticmethod
    def _stage_poses(liftings: Optional[Sequence[Optional[LiftingResult]]],
                     num: int) -> Optional[np.ndarray]:
        """``(N, S - 1, K, 3)`` millimetre poses of the stage liftings, if every stage was
        lifted for the same ``N`` instances (one per top-down crop)."""
        if not liftings or any(r is None or len(r.poses_3d) != num for r in liftings):
            return None
        return torch.stack([r.poses_3d for r in liftings], 1).cpu().numpy().astype(np.float32)
