# Lifting from the Deep (Tome et al., CVPR 2017) on Human3.6M-style data: MMPose's unmodified
# MPII CPM config with the lifting layer between stages (LiftingCPM) and 3D output evaluated
# with mmpose's MPJPE / P-MPJPE. Data and pose model come from
#   python tools/misc/make_synthetic_lifting_data.py data/synthetic_lifting
# (17 Human3.6M joints rendered from the kinematic skeleton generator; the pose model is fitted
# on its 3D poses with tools/misc/fit_pose_prior.py). For real Human3.6M frames, convert them to
# the same COCO-style files (keypoints + keypoints_3d per annotation), fit the pose model on the
# training subjects' 3D poses and change data_root / prior_file.
_base_ = ['mmpose::body_2d_keypoint/topdown_heatmap/mpii/td-hm_cpm_8xb64-210e_mpii-368x368.py']
custom_imports = dict(
    imports=['mmssl', 'mmssl.datasets.synthetic_lifting_images'], allow_failed_imports=False)

data_root = 'data/synthetic_lifting/'
prior_file = data_root + 'pose_prior.npz'

# ---- method hyper-parameters (paper / authors' release values where they exist) ----
lifter = dict(
    type='PPCAMixtureLifter',
    prior=prior_file,
    num_rotations=100,  # discrete rotations about the vertical axis, 2 pi k / 100
    noise_2d=0.05,  # 2D landmark noise (normalised units, person height 2)
    prior_weight=1.0,  # multiplier of the PPCA ridge weights
    min_visible=4)
fusion = dict(
    enabled=True,  # False: the stages' maps pass unchanged (mmpose's CPM, the plain baseline)
    init_weights=None,  # (w_proj, w_belief) per fused stage; None: (0, 1) early, (0.5, 0.5) late
    init_eps=1e-3,  # softmax weights: a zero initial weight starts at 1e-3 (finite logit)
    decode='gaussian',  # landmarks for the lifting: sub-pixel (log-parabola); 'argmax': integer
    backprop_lifting=True,  # seed: training works as well with False (no lifting gradients)
    vis_thr=0.1,  # a joint is visible to the lifting when its belief peak exceeds this
    sigma=1.0,  # projected belief maps: Gaussians of 1 px on the belief-map grid, peak 1
    delta=1.0,  # difference-of-Gaussians step (seed Eq. 9)
    update_scale=1.0)  # k of the belief-map update m = k ||dL/dY|| (seed "Updating B")

max_epochs = 60
train_cfg = dict(max_epochs=max_epochs, val_interval=10)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=5e-4))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=200, start_factor=0.001, by_epoch=False),
    dict(type='MultiStepLR', begin=0, end=max_epochs, milestones=[45, 55], gamma=0.1,
         by_epoch=True)
]
auto_scale_lr = dict(base_batch_size=16)
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(save_best='MPJPE', rule='less', max_keep_ckpts=2))

# CPM downsamples by 8: 128x128 inputs give 16x16 belief maps.
codec = dict(type='MSRAHeatmap', input_size=(128, 128), heatmap_size=(16, 16), sigma=1)
model = dict(
    type='LiftingTopdownPoseEstimator',
    backbone=dict(
        _delete_=True,
        type='LiftingCPM',
        in_channels=3,
        out_channels=17,
        feat_channels=128,
        num_stages=6,
        lifter=lifter,
        fusion=fusion),
    head=dict(in_channels=17, out_channels=17, decoder=codec),
    test_cfg=dict(flip_test=True, output_3d=True))

dataset_type = 'LiftingImageDataset'
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    # small in-plane rotations only: the lifting assumes an upright camera
    dict(type='RandomBBoxTransform', shift_prob=0, rotate_factor=10, scale_factor=(0.8, 1.2)),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(
        type='PackPoseInputs',
        meta_keys=('id', 'img_id', 'img_path', 'category_id', 'ori_shape', 'img_shape',
                   'input_size', 'input_center', 'input_scale', 'flip', 'flip_direction',
                   'flip_indices', 'target_img_path'))
]
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        data_mode='topdown',
        ann_file='annotations/train.json',
        data_prefix=dict(img='images/train/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        data_mode='topdown',
        ann_file='annotations/val.json',
        data_prefix=dict(img='images/val/'),
        test_mode=True,
        pipeline=val_pipeline))
test_dataloader = val_dataloader
# 3D: the final lifted pose (pred_instances.keypoints_3d) and the pose lifted from each fused
# stage (stage_keypoints_3d: MPJPE_s1 ...); 2D: the 2D prediction (pred_instances.keypoints).
val_evaluator = [
    dict(type='LiftingMPJPE', mode='mpjpe'),
    dict(type='LiftingMPJPE', mode='p-mpjpe'),
    dict(type='LiftingStageMPJPE', mode='mpjpe'),
    dict(type='PCKAccuracy', thr=0.05, norm_item='bbox'),
    dict(type='EPE'),
    dict(type='LiftingStagePCK', thr=0.05, norm_item='bbox'),  # PCK_sN, EPE_sN per stage
]
test_evaluator = val_evaluator
