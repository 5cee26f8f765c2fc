# STLD-HM on the project's synthetic 300W-format faces, sized for a CPU: 30 labeled of 600
# training faces (5 %), the rest unlabeled, 150 test faces; ResNet-18 at 1/4 width from
# scratch (no ImageNet weights offline), 128x128 crops, 30 epochs per stage, T = 4 rounds.
# Data: python tools/misc/make_synthetic_data.py
#       python tools/misc/split_landmarks.py --ann-file data/synthetic/faces/annotations/face_landmarks_train.json \
#           --num-labeled 30 --seed 1234 --out-dir data/synthetic/faces/annotations/semi
_base_ = ['../_base_/stld-hm_res18_1xb16-60e_300w-256x256.py']

data_root = 'data/synthetic/faces/'
num_labeled = 30
self_training = dict(
    num_rounds=4,
    curriculum=[2.2, 1.8, 1.5],
    unlabeled_ann_file=f'annotations/semi/face_landmarks_train.unlabeled@{num_labeled}.json',
    # hidden labels of the unlabeled faces: only to measure pseudo-label quality per round
    pseudo_gt_ann_file='annotations/face_landmarks_train.json',
    unlabeled_dataloader=dict(num_workers=1, persistent_workers=False),
)

codec = dict(type='MSRAHeatmap', input_size=(128, 128), heatmap_size=(32, 32), sigma=1.5)
model = dict(
    backbone=dict(base_channels=16, stem_channels=16, init_cfg=None),
    head=dict(in_channels=128, deconv_out_channels=(64, 64, 64), decoder=codec))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomBBoxTransform', shift_prob=0, rotate_factor=60,
         scale_factor=(0.75, 1.25)),
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
    batch_size=16, num_workers=1, persistent_workers=False,
    dataset=dict(data_root=data_root, data_prefix=dict(img='images/train/'),
                 ann_file=f'annotations/semi/face_landmarks_train.labeled@{num_labeled}.json',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32, num_workers=1, persistent_workers=False,
    dataset=dict(data_root=data_root, data_prefix=dict(img='images/test/'),
                 ann_file='annotations/face_landmarks_test.json', pipeline=val_pipeline))
test_dataloader = val_dataloader

train_cfg = dict(max_epochs=30, val_interval=10)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))  # from scratch: 10x the paper's
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=30, milestones=[20, 25], gamma=0.1, by_epoch=True)
]
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=10))
randomness = dict(seed=0)
