"""Lifting from the Deep (Tome et al., CVPR 2017): probabilistic 3D pose model and lifting layer.

Importing registers ``PPCAMixtureLifter``, ``LiftingBeliefFusion``, ``LiftingCPM`` and
``LiftingTopdownPoseEstimator`` in ``mmpose.registry.MODELS``.
"""
from .estimator import LiftingTopdownPoseEstimator
from .evaluation import (add_landmark_noise, compare_ridges, evaluate_lifting,
                         project_held_out)
from .fitting import align_about_up, fit_pose_prior, model_frame_matrix, normalise_poses3d
from .functions import (BeliefMapLifting, LandmarkLifting, belief_grad_to_landmarks,
                        belief_update_gradient, dog_derivative, render_belief_maps)
from .fusion import LiftingBeliefFusion
from .lifter import RIDGE_MODES, LiftingResult, PPCAMixtureLifter, normalise_landmarks
from .lifting_cpm import LiftingCPM
from .pose_prior import FORMAT_VERSION, PosePrior, PosePriorError, bone_lengths_rss
from .reference import lift_reference

__all__ = [
    'PosePrior', 'PosePriorError', 'FORMAT_VERSION', 'bone_lengths_rss', 'fit_pose_prior',
    'align_about_up', 'model_frame_matrix', 'normalise_poses3d', 'PPCAMixtureLifter',
    'LiftingResult', 'normalise_landmarks', 'LandmarkLifting', 'BeliefMapLifting',
    'render_belief_maps', 'dog_derivative', 'belief_grad_to_landmarks',
    'belief_update_gradient', 'LiftingBeliefFusion', 'LiftingCPM',
    'LiftingTopdownPoseEstimator', 'lift_reference', 'RIDGE_MODES', 'project_held_out',
    'add_landmark_noise', 'evaluate_lifting', 'compare_ridges'
]
