"""Adversarial data augmentation (seed 001): the augmentation network G, bins, targets,
the batch-tensor ASR warp, AHO feature masking and the AdversarialPoseEstimator wrapper
(registered in mmpose's MODELS; the optimizer constructor in mmengine's registries)."""
from .adversarial_estimator import AdversarialPoseEstimator
from .asr_warp import (codec_geometry, render_msra_heatmaps, scale_rotation_matrices,
                       warp_samples)
from .augmentation_net import AdversarialAugmentationNet
from .bins import (PAPER_ROTATION_BINS, PAPER_SCALE_BINS, RELEASE_RANDOM_AUG,
                   RELEASE_ROTATION_BINS, RELEASE_SCALE_BINS, AugmentationBins,
                   sample_random_scale_rotation)
from .bridge import (BridgeFeatures, auto_bridge_modules, cells_from_order, occlusion_mask,
                     upsample_mask)
from .difficulty import PCKhDifficulty, build_difficulty, decode_heatmaps, pck_difficulty
from .optim_wrapper import AdversarialOptimWrapperConstructor, JointOptimWrapperDict
from .packed_occlusion_estimator import PackedOcclusionEstimator
from .targets import (kl_loss, normalise_rows, reward_penalty_target, sweep_targets,
                      vote_cells)

__all__ = [
    'AdversarialPoseEstimator', 'AdversarialAugmentationNet', 'AugmentationBins',
    'PCKhDifficulty', 'build_difficulty', 'decode_heatmaps', 'pck_difficulty',
    'BridgeFeatures', 'AdversarialOptimWrapperConstructor', 'JointOptimWrapperDict',
    'auto_bridge_modules', 'occlusion_mask', 'upsample_mask', 'codec_geometry',
    'render_msra_heatmaps', 'scale_rotation_matrices', 'warp_samples', 'kl_loss',
    'normalise_rows', 'reward_penalty_target', 'sweep_targets', 'vote_cells',
    'sample_random_scale_rotation', 'PAPER_SCALE_BINS', 'PAPER_ROTATION_BINS',
    'RELEASE_SCALE_BINS', 'RELEASE_ROTATION_BINS', 'RELEASE_RANDOM_AUG',
    'PackedOcclusionEstimator', 'cells_from_order'
]
