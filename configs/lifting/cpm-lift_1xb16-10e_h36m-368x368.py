# Lifting from the Deep (Tome et al., CVPR 2017) on Human3.6M, the paper's protocol: train on
# subjects S1 S5 S6 S7 S8, test on S9 S11 (protocol #1, MPJPE in mm), 368x368 inputs and 46x46
# belief maps. Everything else (LiftingCPM, fusion, lifter settings, evaluators) is the
# synthetic config's. Data: mmpose's preprocessed Human3.6M (tools/dataset_converters/
# preprocess_h36m.py in mmpose) converted once, which also fits the pose model on the training
# subjects' 3D poses:
#   python tools/dataset_converters/h36m_to_lifting.py data/h36m
_base_ = ['./cpm-lift_1xb16-60e_synthetic-h36m-128x128.py']

data_root = 'data/h36m/'
prior_file = data_root + 'lifting/pose_prior.npz'

max_epochs = 10
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
param_scheduler = [
    dict(type='LinearLR', begin=0, end=500, start_factor=0.001, by_epoch=False),
    dict(type='MultiStepLR', begin=0, end=max_epochs, milestones=[7, 9], gamma=0.1,
         by_epoch=True)
]

# CPM downsamples by 8: 368x368 inputs give 46x46 belief maps (the paper's sizes).
codec = dict(type='MSRAHeatmap', input_size=(368, 368), heatmap_size=(46, 46), sigma=2)
model = dict(
    backbone=dict(lifter=dict(prior=prior_file)),
    head=dict(decoder=codec))

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
    dataset=dict(
        data_root=data_root,
        ann_file='lifting/train.json',
        data_prefix=dict(img='images/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='lifting/val.json',
        data_prefix=dict(img='images/'),
        pipeline=val_pipeline))
test_dataloader = val_dataloader
