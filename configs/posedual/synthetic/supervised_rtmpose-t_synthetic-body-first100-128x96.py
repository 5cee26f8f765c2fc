# Supervised baseline of the synthetic SimCC study: MMPose's unmodified RTMPose-t config
# (CSPNeXt-t + RTMCCHead, SimCC codec) retargeted to the embedded synthetic bodies at 128x96,
# from random weights, trained on the first 100 labeled instances (5 % of data/synthetic/body
# train) for the same iterations as the PoseDual / PoseCons configs next to it. The twin of
# supervised_res18-w32_synthetic-body-first100-128x96.py with a SimCC head.
_base_ = ['mmpose::body_2d_keypoint/rtmpose/coco/rtmpose-t_8xb256-420e_coco-256x192.py']
custom_imports = dict(imports=['mmssl'], allow_failed_imports=False)

num_iters = 1200
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=num_iters,
                 val_interval=300)
# RTMPose's AdamW (no decay on norms/biases) at the lr of the heatmap study's 16 + 16 batches
optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=50, start_factor=0.01, by_epoch=False),
    dict(type='MultiStepLR', begin=0, end=num_iters, milestones=[int(num_iters * 0.8)],
         gamma=0.1, by_epoch=False)
]
log_processor = dict(by_epoch=False)
default_hooks = dict(checkpoint=dict(interval=300, by_epoch=False, max_keep_ckpts=1,
                                     save_best='coco/AP', rule='greater'),
                     logger=dict(interval=20, log_metric_by_epoch=False))
# 128x96 crops: SimCC bins at split ratio 2, sigma halved with the input (4.9, 5.66 at 256x192)
codec = dict(type='SimCCLabel', input_size=(96, 128), sigma=(2.45, 2.83), simcc_split_ratio=2.0,
             normalize=False, use_dark=False)
model = dict(
    # no ImageNet/AIC download, BN (one process on a CPU)
    backbone=dict(init_cfg=None, norm_cfg=dict(type='BN')),
    head=dict(input_size=codec['input_size'], in_featuremap_size=(3, 4), decoder=codec),
    test_cfg=dict(flip_test=False))

data_root = 'data/synthetic/body/'
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='ClippedNormalBBoxTransform'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(
    batch_size=16, num_workers=2, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root=data_root,
                 ann_file='semi_anns/person_keypoints_train.labeled@first100.json',
                 data_prefix=dict(img='images/train/'), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64, num_workers=2, persistent_workers=True,
    dataset=dict(data_root=data_root, ann_file='annotations/person_keypoints_val.json',
                 bbox_file=None, data_prefix=dict(img='images/val/'),
                 pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='CocoMetric', ann_file=data_root + 'annotations/person_keypoints_val.json'),
    dict(type='PCKAccuracy', thr=0.05, norm_item='bbox'),
]
test_evaluator = val_evaluator
# no stage-2 pipeline switch (an iteration-based study) and no EMA, as in the heatmap study
custom_hooks = [dict(type='KeypointCountCheckHook')]
