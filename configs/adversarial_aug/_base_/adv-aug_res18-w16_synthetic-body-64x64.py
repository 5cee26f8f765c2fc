# Adversarial data augmentation (seed 001) at CPU scale: MMPose's unmodified SimpleBaseline
# COCO config retargeted to the embedded synthetic bodies (tools/misc/make_synthetic_data.py)
# with a 16-channel ResNet-18 at 64x64 (heatmaps 16x16), small enough for a few hundred
# iterations on a shared CPU. The bridge features are the first three residual stages
# (16, 8, 4 px; the fourth, 2 px, is below the 4x4 occlusion grid): "the multi-scale
# features the backbone exposes".
_base_ = ['mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_res50_8xb64-210e_coco-256x192.py']
custom_imports = dict(
    imports=['mmssl', 'mmssl.engine.hooks.adversarial_stats_hook'], allow_failed_imports=False)

codec = dict(type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16), sigma=1)
model = dict(
    _delete_=True,
    type='AdversarialPoseEstimator',
    estimator=dict(
        type='TopdownPoseEstimator',
        data_preprocessor=_base_.model.data_preprocessor,
        backbone=dict(type='ResNet', depth=18, base_channels=16, stem_channels=16,
                      init_cfg=None),
        head=dict(type='HeatmapHead', in_channels=128, out_channels=17,
                  deconv_out_channels=(64, 64, 64), deconv_kernel_sizes=(4, 4, 4),
                  loss=dict(type='KeypointMSELoss', use_target_weight=True), decoder=codec),
        test_cfg=dict(flip_test=False)),
    augmenter=dict(channels=16),
    bridge=dict(modules=['backbone.layer1', 'backbone.layer2', 'backbone.layer3']),
    stage='joint',
    split=(1, 1, 1),
    scale_bins=dict(num=7, low=-0.6, high=0.6, sigma=0.05, log2=True),
    rotation_bins=dict(num=9, low=-60., high=60., sigma=3.75),
    random_aug=dict(scale_sigma=0.25, scale_range=(0.75, 1.25), rot_sigma=30., rot_range=30.,
                    rot_prob=1.0),
    grid=(4, 4),
    num_cells=(1, 2),
    alpha=0.2,
    beta=0.5,
    pretrain_sweep='separate',  # m + n passes (the release's sweep), CPU budget
    sweep_chunk=16)

data_root = 'data/synthetic/body/'
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs', pack_transformed=True)
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(
    batch_size=12, num_workers=2, persistent_workers=True, drop_last=True,
    dataset=dict(data_root=data_root, ann_file='annotations/person_keypoints_train.json',
                 data_prefix=dict(img='images/train/'), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64, num_workers=2, persistent_workers=True,
    dataset=dict(data_root=data_root, ann_file='annotations/person_keypoints_val.json',
                 bbox_file=None, data_prefix=dict(img='images/val/'), pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    _delete_=True,
    type='Evaluator',
    metrics=[
        dict(type='CocoMetric', ann_file=data_root + 'annotations/person_keypoints_val.json'),
        dict(type='PCKAccuracy', thr=0.05, norm_item='bbox'),
        dict(type='PCKAccuracy', thr=0.2, norm_item='bbox', prefix='pck@0.2'),
    ])
test_evaluator = val_evaluator

optim_wrapper = dict(
    _delete_=True,
    constructor='AdversarialOptimWrapperConstructor',
    pose=dict(optimizer=dict(type='RMSprop', lr=1e-3, alpha=0.99, eps=1e-8)),
    augmenter=dict(optimizer=dict(type='RMSprop', lr=2e-4, alpha=0.99, eps=1e-8)))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True)]
default_hooks = dict(logger=dict(interval=20),
                     checkpoint=dict(interval=1, max_keep_ckpts=1, save_best=None))
custom_hooks = [dict(type='AdversarialDistributionHook', interval=20, max_samples=8)]
randomness = dict(seed=0)
