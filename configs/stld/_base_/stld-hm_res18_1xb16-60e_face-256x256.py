# STLD-HM-R18 for face landmarks (seed 003, Jin et al.), shared by the per-dataset bases
# (stld-hm_res18_1xb16-60e_{300w,aflw,wflw}-256x256.py): MMPose's face heatmap config with a
# ResNet-18 SimpleBaseline model whose head has a second output for pseudo-labels
# (STLDHeatmapHead), the paper's optimiser/schedule, and the self-training runner. MMPose's
# 300W config supplies the common runtime/data parts; each per-dataset base sets its dataset,
# keypoint count (model.head.out_channels), split files and, where it differs, the NME
# normalisation.
_base_ = [
    'mmpose::face_2d_keypoint/topdown_heatmap/300w/td-hm_hrnetv2-w18_8xb64-60e_300w-256x256.py',
    './stld_release_pipeline.py'
]
custom_imports = dict(imports=['mmssl'], allow_failed_imports=False)

# ---- self-training (Algorithm 1): round 0 supervised, then T rounds of pseudo pretraining ->
# source-aware mixed training -> pseudo-label re-estimation.
runner_type = 'SelfTrainingRunner'
self_training = dict(
    mode='stld',
    num_rounds=4,  # T
    curriculum=[2.2, 1.8, 1.5],  # sigma_t of pseudo-label heatmaps, rounds 2..T
    pseudo_loss_weights=None,  # lambda_t: 0.1 for t < T, 1 for t = T
    pretrain_speedup=5,  # rounds >= 2 pretrain from the previous pretrain for 1/5 schedule
    labeled_min_size=100,  # the release oversamples the labeled set to >= 100 (R18)
)

# ---- model: ResNet-18 -> 3 x deconv(256) -> 1x1 (main) + 1x1 (shrink), 64x64 heatmaps
codec = dict(type='MSRAHeatmap', input_size=(256, 256), heatmap_size=(64, 64), sigma=1.5)
model = dict(
    backbone=dict(
        _delete_=True, type='ResNet', depth=18,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    neck=None,
    head=dict(
        _delete_=True, type='STLDHeatmapHead', in_channels=512,
        deconv_out_channels=(256, 256, 256), deconv_kernel_sizes=(4, 4, 4),
        loss=dict(type='KeypointMSELoss', use_target_weight=True), decoder=codec),
    # the paper's protocol: no flip test (a flipped evaluation: --cfg-options
    # model.test_cfg.flip_test=True)
    test_cfg=dict(flip_test=False))

# ---- optimisation (paper: Adam 1e-4, batch 16, 60 epochs, x0.1 at 40 and 50)
train_cfg = dict(max_epochs=60, val_interval=10)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-4))
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=60, milestones=[40, 50], gamma=0.1, by_epoch=True)
]
auto_scale_lr = dict(base_batch_size=16)
default_hooks = dict(checkpoint=dict(save_best=None, interval=10, max_keep_ckpts=1))

# ---- data: the release's augmentation and crop (./stld_release_pipeline.py);
# ground-truth targets use sigma_std = 1.5 (the paper's value for every dataset)
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=_base_.stld_release_crop_padding),
    *_base_.stld_release_box_augment,
    dict(type='TopdownAffine', input_size=codec['input_size']),
    *_base_.stld_release_crop_augment,
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=_base_.stld_release_crop_padding),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(batch_size=16, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='FaceLandmarkMetric', norm_mode='keypoint_distance')
test_evaluator = val_evaluator
