"""Top-down estimator that lifts its final 2D prediction to 3D (Human3.6M-style evaluation)."""
import copy
from typing import Optional

import numpy as np
import torch
from torch import Tensor

from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.registry import MODELS
from mmpose.utils.typing import SampleList
from .lifter import PPCAMixtureLifter


@MODELS.register_module()
class LiftingTopdownPoseEstimator(TopdownPoseEstimator):
    """:class:`TopdownPoseEstimator` whose predictions are lifted to 3D.

    Training is unchanged (the head's per-stage heat-map losses). In ``predict`` the decoded
    2D keypoints of every instance are lifted in one batch; ``pred_instances.keypoints``
    then holds the 3D pose ``(1, K, 3)`` in millimetres, root-relative, camera frame ``(x
    right, depth, up)`` -- what ``mmpose.evaluation.MPJPE`` reads -- and the 2D prediction
    moves to ``pred_instances.keypoints_2d``. Set ``test_cfg.output_3d=False`` to keep the 2D
    output only.

    Test-time keys of ``test_cfg`` besides the base ones: ``output_3d`` (default True) and
    ``lift_score_thr`` (keypoints scoring below it are not visible to the lifting; default:
    the backbone fusion's ``vis_thr``, else 0.1).

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

    @property
    def lifter(self) -> PPCAMixtureLifter:
        """The estimator's own lifter, else the backbone's (kept once in checkpoints)."""
        return self.own_lifter if self.own_lifter is not None else self.backbone.lifter

    def predict(self, inputs: Tensor, data_samples: SampleList) -> SampleList:
        """2D prediction of the base class, then batched lifting of every instance."""
        results = super().predict(inputs, data_samples)
        if not self.test_cfg.get('output_3d', True) or not results:
            return results
        fusion = getattr(self.backbone, 'fusion', None)
        thr = self.test_cfg.get('lift_score_thr', getattr(fusion, 'vis_thr', 0.1))
        kpts = [np.asarray(r.pred_instances.keypoints)[..., :2] for r in results]
        scores = [np.asarray(r.pred_instances.keypoint_scores) for r in results]
        counts = [len(k) for k in kpts]
        dev = inputs.device
        with torch.no_grad():
            lifted = self.lifter(
                torch.from_numpy(np.concatenate(kpts)).to(dev, torch.float64),
                torch.from_numpy(np.concatenate(scores) > thr).to(dev))
        poses = lifted.poses_3d.cpu().numpy().astype(np.float32)
        valid = lifted.valid.cpu().numpy()
        start = 0
        for res, n, kp in zip(results, counts, kpts):
            inst = res.pred_instances
            inst.keypoints_2d = kp
            inst.keypoints = poses[start:start + n]
            inst.lifting_valid = valid[start:start + n]
            start += n
        return results
