# Shared parts of the PoseDual MPII + AI Challenger configs (seed 000, Table 10): MPII train
# labeled, AIC train images unlabeled (their GT person boxes, keypoints dropped; AIC's 14
# keypoints are irrelevant: the unlabeled samples carry MPII's 16-keypoint metainfo), 256x256
# input, evaluation PCKh@0.5 on MPII val. Child configs set the estimator's backbone.
_base_ = ['../coco/posedual_res18_8xb8-30e_coco-1k-256x192.py']
codec = dict(type='MSRAHeatmap', input_size=(256, 256), heatmap_size=(64, 64), sigma=2)
mpii_meta = dict(from_file='configs/_base_/datasets/mpii.py')
labeled_dataset = _base_.labeled_dataset
labeled_dataset.update(type='MpiiDataset', data_root='data/mpii/',
                       ann_file='annotations/mpii_train.json',
                       data_prefix=dict(img='images/'))
labeled_dataset.pipeline = [  # the MPII crop, packed into the 'sup' branch
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='ClippedNormalBBoxTransform', scale_sigma=0.25, scale_range=(0.75, 1.25),
         rotate_sigma=30., rotate_limit=60., rotate_prob=0.6),  # the release's labeled aug
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PoseMultiBranch', branch_field=_base_.branches,
         sup=[dict(type='PackSemiPoseInputs')])
]
unlabeled_dataset = _base_.unlabeled_dataset
unlabeled_dataset.update(
    data_root='data/aic/', ann_file='annotations/aic_train.json', metainfo=mpii_meta,
    min_num_keypoints=0,
    data_prefix=dict(img='ai_challenger_keypoint_train_20170902/keypoint_train_images_20170902/'))
unlabeled_dataset.pipeline[4].input_size = codec['input_size']
train_dataloader = dict(dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]))
val_dataloader = dict(dataset=dict(
    _delete_=True, type='MpiiDataset', data_root='data/mpii/', data_mode='topdown',
    ann_file='annotations/mpii_val.json', headbox_file='data/mpii/annotations/mpii_gt_val.mat',
    data_prefix=dict(img='images/'), test_mode=True,
    pipeline=[dict(type='LoadImage'), dict(type='GetBBoxCenterScale'),
              dict(type='TopdownAffine', input_size=codec['input_size']),
              dict(type='PackPoseInputs')]))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='MpiiPCKAccuracy')
test_evaluator = val_evaluator
model = dict(estimator=dict(head=dict(out_channels=16, decoder=codec)))
default_hooks = dict(checkpoint=dict(save_best='ensemble/PCK', rule='greater'))
train_cfg = dict(max_epochs=100)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=100, milestones=[50, 70], gamma=0.1, by_epoch=True)
]
