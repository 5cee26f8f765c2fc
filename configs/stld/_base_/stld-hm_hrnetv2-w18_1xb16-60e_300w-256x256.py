# STLD-HM-HRNet on 300W (seed 003): MMPose's own HRNetV2-W18 300W model (concatenated
# 4-branch features -> 1x1 conv -> heatmaps) with the head swapped for STLDHeatmapHead (second
# 1x1 output for pseudo-labels), the paper's optimiser/schedule and the self-training runner.
_base_ = [
    'mmpose::face_2d_keypoint/topdown_heatmap/300w/td-hm_hrnetv2-w18_8xb64-60e_300w-256x256.py',
    './stld_release_pipeline.py'
]
custom_imports = dict(imports=['mmssl'], allow_failed_imports=False)

runner_type = 'SelfTrainingRunner'
self_training = dict(
    mode='stld',
    num_rounds=4,
    curriculum=[2.2, 1.8, 1.5],
    pseudo_loss_weights=None,
    pretrain_speedup=5,
    labeled_min_size=1000,  # the release oversamples to os_num = 1000 in its HRNet files
    unlabeled_ann_file='annotations/semi/face_landmarks_300w_train.unlabeled@157.json',
)

# the paper's protocol: no flip test (a flipped evaluation: --cfg-options
# model.test_cfg.flip_test=True)
model = dict(head=dict(type='STLDHeatmapHead'), test_cfg=dict(flip_test=False))

train_cfg = dict(max_epochs=60, val_interval=10)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-4))
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=60, milestones=[40, 50], gamma=0.1, by_epoch=True)
]
auto_scale_lr = dict(base_batch_size=16)
default_hooks = dict(checkpoint=dict(save_best=None, interval=10, max_keep_ckpts=1))

# ---- data: the release's augmentation and crop (./stld_release_pipeline.py), MMPose's codec
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=_base_.stld_release_crop_padding),
    *_base_.stld_release_box_augment,
    dict(type='TopdownAffine', input_size=_base_.codec['input_size']),
    *_base_.stld_release_crop_augment,
    dict(type='GenerateTarget', encoder=_base_.codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=_base_.stld_release_crop_padding),
    dict(type='TopdownAffine', input_size=_base_.codec['input_size']),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(
    batch_size=16,
    dataset=dict(ann_file='annotations/semi/face_landmarks_300w_train.labeled@157.json',
                 pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='FaceLandmarkMetric', norm_mode='keypoint_distance')
test_evaluator = val_evaluator
