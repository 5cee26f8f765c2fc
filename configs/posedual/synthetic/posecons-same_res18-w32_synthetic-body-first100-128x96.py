# PoseCons (single network, its own teacher) on the synthetic bodies, same data and schedule
# as the PoseDual config next to it, with teacher and student views drawn from the SAME
# distribution (teacher_view='same'): the collapsing setup of seed 000 (its Table 9).
_base_ = ['./supervised_res18-w32_synthetic-body-first100-128x96.py']

estimator = _base_.model
# every branch some sample fills (no RandAugment student copy here: the hard view is made
# from the teacher images)
branches = ['sup', 'unsup_teacher']
model = dict(
    _delete_=True,
    type='PoseCons',
    estimator=estimator,
    data_preprocessor=dict(type='mmdet.MultiBranchDataPreprocessor',
                           data_preprocessor=estimator.data_preprocessor),
    unsup_weight=1.0,
    unsup_start_iter=200,
    teacher_mode='train',
    teacher_view='same',
    hard_affine=dict(scale_sigma=0.25, scale_range=(0.75, 1.25), rot_sigma=30., rot_range=60.,
                     rot_prob=0.8),
    joint_cutout=None,
    predict_on='net1')

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
default_hooks = dict(checkpoint=dict(save_best='net1/coco/AP'))
custom_hooks = [
    dict(type='KeypointCountCheckHook'),
    dict(type='CollapseMonitorHook', interval=20),
]
