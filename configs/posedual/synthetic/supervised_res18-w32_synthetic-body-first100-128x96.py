# Supervised baseline of the synthetic semi-supervised study: the quickstart model trained on
# the first 100 labeled instances (5 % of data/synthetic/body train) for the same number of
# iterations as the semi-supervised configs next to it, with their labeled pipeline (the
# release's: flip, clipped-normal scale/rotation, no half-body) instead of the quickstart's
# mmpose augmentation (RandomHalfBody + RandomBBoxTransform).
_base_ = ['../../quickstart/td-hm_res18_synthetic-body-128x96.py']

num_iters = 1200
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=num_iters,
                 val_interval=300)
param_scheduler = [
    dict(type='LinearLR', begin=0, end=50, start_factor=0.01, by_epoch=False),
    dict(type='MultiStepLR', begin=0, end=num_iters, milestones=[int(num_iters * 0.8)],
         gamma=0.1, by_epoch=False)
]
log_processor = dict(by_epoch=False)
default_hooks = dict(checkpoint=dict(interval=300, by_epoch=False, max_keep_ckpts=1,
                                     save_best='coco/AP', rule='greater'),
                     logger=dict(log_metric_by_epoch=False))
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='ClippedNormalBBoxTransform'),
    dict(type='TopdownAffine', input_size=_base_.codec['input_size']),
    dict(type='GenerateTarget', encoder=_base_.codec),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(
    batch_size=16,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(ann_file='semi_anns/person_keypoints_train.labeled@first100.json',
                 pipeline=train_pipeline))
custom_hooks = [dict(type='KeypointCountCheckHook')]
