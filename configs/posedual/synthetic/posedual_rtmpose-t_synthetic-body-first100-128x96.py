# PoseDual with an RTMPose-t-sized SimCC model (CSPNeXt-t + RTMCCHead) on the synthetic
# bodies, the twin of posedual_res18-w32_synthetic-body-first100-128x96.py: the first 100
# labeled instances (5 %) + every person box of the train split unlabeled (the seed 000
# "COCO-1K" protocol at CPU scale). Each batch has 16 labeled + 16 unlabeled samples; both
# networks start from different random weights and train on labels only for the first
# `unsup_start_iter` iterations, then teach each other through the SimCC codec (a teacher's
# SimCC vectors are decoded, its keypoints moved to the hard view and re-encoded as the
# student's SimCC labels, each keypoint weighted by the teacher's score).
_base_ = ['./supervised_rtmpose-t_synthetic-body-first100-128x96.py']

estimator = _base_.model
# every branch some sample fills (no RandAugment student copy here: the hard view is made
# from the teacher images)
branches = ['sup', 'unsup_teacher']
model = dict(
    _delete_=True,
    type='PoseDual',
    estimator=estimator,
    data_preprocessor=dict(type='MultiBranchPoseDataPreprocessor',
                           data_preprocessor=estimator.data_preprocessor),
    unsup_weight=1.0,
    unsup_start_iter=200,
    teacher_mode='train',
    hard_affine=dict(scale_sigma=0.25, scale_range=(0.75, 1.25), rot_sigma=30., rot_range=60.,
                     rot_prob=0.8),
    joint_cutout=None,
    predict_on='ensemble')

# one DDP wrapper per network, so that PoseDual.train_step back-propagates one loss term at a
# time (peak memory of one term's graph) and all-reduces each network's gradient once a step
model_wrapper_cfg = dict(type='MMSeparateDistributedDataParallel', broadcast_buffers=False,
                         find_unused_parameters=False)

codec = _base_.codec
labeled_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='ClippedNormalBBoxTransform'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PoseMultiBranch', branch_field=branches, sup=[dict(type='PackSemiPoseInputs')])
]
# easy view (seed 000): flip 0.5, scale clip(N(1, .25), .75, 1.25), rotation clip(N(0, 30),
# +-60) with p 0.6; the hard view is made from it on the batch tensor inside the model
unlabeled_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='ClippedNormalBBoxTransform'),
    dict(type='TopdownAffineWithMatrix', input_size=codec['input_size']),
    dict(type='PoseMultiBranch', branch_field=branches,
         unsup_teacher=[dict(type='PackSemiPoseInputs')])
]
data_root = 'data/synthetic/body/'
train_dataloader = dict(
    _delete_=True,
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='MixedRatioSampler', batch_size=32, source_ratio=[1, 1]),
    dataset=dict(
        type='ConcatDataset',
        ignore_keys=['CLASSES'],
        datasets=[
            dict(type='CocoDataset', data_root=data_root,
                 ann_file='semi_anns/person_keypoints_train.labeled@first100.json',
                 data_prefix=dict(img='images/train/'), pipeline=labeled_pipeline),
            dict(type='UnlabeledTopDownDataset', data_root=data_root,
                 ann_file='semi_anns/person_keypoints_train.unlabeled@first100.json',
                 data_prefix=dict(img='images/train/'), pipeline=unlabeled_pipeline),
        ]))
val_cfg = dict(type='MultiModelValLoop')
test_cfg = dict(type='MultiModelTestLoop')
default_hooks = dict(checkpoint=dict(save_best='ensemble/coco/AP'))
custom_hooks = [
    dict(type='KeypointCountCheckHook'),
    dict(type='CollapseMonitorHook', interval=20),
]
