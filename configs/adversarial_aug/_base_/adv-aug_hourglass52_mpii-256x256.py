# Adversarial data augmentation (seed 001) around MMPose's unmodified single-stack hourglass
# on MPII (256x256 input, 64x64 heatmaps, PCKh@0.5). The stage configs set `stage`, `split`,
# the optimizers and the schedule; everything else of the model is MMPose's.
#
# The data pipeline delivers the standard crop (flip only): scale and rotation (random,
# adversarial and the per-image references) are applied by the model on the batch tensor,
# which needs the crop's keypoints (PackPoseInputs(pack_transformed=True)).
_base_ = ['mmpose::body_2d_keypoint/topdown_heatmap/mpii/'
          'td-hm_hourglass52_8xb64-210e_mpii-256x256.py']
custom_imports = dict(
    imports=['mmssl', 'mmssl.engine.hooks.adversarial_stats_hook'], allow_failed_imports=False)

model = dict(
    _delete_=True,
    type='AdversarialPoseEstimator',
    estimator=_base_.model,  # MMPose's hourglass52 top-down estimator, unchanged
    augmenter=dict(channels=256),  # G: one residual block per bridge resolution (64..4 px)
    stage='joint',
    # mini-batch shares (Alg. 1): random, ASR, AHO
    split=(1, 1, 1),
    # paper: m = 7 scale bins (log2 box scale in [-0.6, 0.6]) and n = 9 rotation bins
    scale_bins=dict(num=7, low=-0.6, high=0.6, sigma=0.05, log2=True),
    rotation_bins=dict(num=9, low=-60., high=60., sigma=3.75),
    # the random augmentation (paper Sec. 5.1: scaling 0.75-1.25, rotating +-30 degrees)
    random_aug=dict(scale_sigma=0.25, scale_range=(0.75, 1.25), rot_sigma=30., rot_range=30.,
                    rot_prob=1.0),
    grid=(4, 4),
    num_cells=(1, 2),  # paper: 1 or 2 occluded cells; release: (2, 2)
    alpha=0.2,  # reward (Eq. 5)
    beta=0.5,  # penalty (Eq. 6)
    # the release's clipping of G's targets to [0, 2/k] (paper: none, Eq. 5, 6 only): with
    # the paper's targets G collapsed onto one extreme bin in our synthetic study, with the
    # clipping it tracks D (configs/adversarial_aug/README.md); the *_paper-targets configs
    # set clip_target=False
    clip_target=True,
    pretrain_sweep='grid',  # paper: m x n; release: 'separate' (m + n)
    aho_vote='dataset',
    target_mode='reencode')

codec = _base_.codec
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs', pack_transformed=True)
]
# drop_last: every joint-training batch must hold one image per share
train_dataloader = dict(batch_size=24, drop_last=True, dataset=dict(pipeline=train_pipeline))

# separate optimizers for D (pose) and G (augmenter); RMSprop as in the paper
optim_wrapper = dict(
    _delete_=True,
    constructor='AdversarialOptimWrapperConstructor',
    pose=dict(optimizer=dict(type='RMSprop', lr=2.5e-4, alpha=0.99, eps=1e-8)),
    augmenter=dict(optimizer=dict(type='RMSprop', lr=5e-5, alpha=0.99, eps=1e-8)))
auto_scale_lr = dict(base_batch_size=192)
default_hooks = dict(checkpoint=dict(save_best='PCK', rule='greater', max_keep_ckpts=2))
custom_hooks = [dict(type='AdversarialDistributionHook', interval=200, max_samples=8)]
