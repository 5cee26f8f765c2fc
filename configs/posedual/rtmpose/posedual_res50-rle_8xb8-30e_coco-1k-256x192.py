# PoseDual with MMPose's unmodified RLE regression model (ResNet-50 + GAP + RLEHead,
# RegressionLabel codec), COCO 1K labeled + COCO 150K unlabeled; beyond the paper (seed 000
# trains heatmap models). A teacher's decoded coordinates on the easy view are moved to the
# hard view and encoded as the student's normalised regression labels; the student's RLE loss
# weights each keypoint by the teacher's RLE score (1 - mean(sigmoid(sigma))). The ensemble is
# the score-weighted mean of the two networks' decoded coordinates. Recipe: the release's COCO-1K
# PoseDual file (8 GPUs x (4 + 4), 30 epochs [20, 25] of max(L, U), Adam 1e-3 - also the RLE
# config's lr - no warm-up), ImageNet ResNet-50 as mmpose's RLE config.
_base_ = [
    'mmpose::body_2d_keypoint/topdown_regression/coco/td-reg_res50_rle-8xb64-210e_coco-256x192.py',
    '../_base_/posedual_semi-coco-parts.py'
]
custom_imports = dict(imports=['mmssl'], allow_failed_imports=False)

num_labeled = 1000
max_epochs = 30
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3, weight_decay=1e-4))
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=max_epochs, milestones=[20, 25], gamma=0.1,
         by_epoch=True)
]
auto_scale_lr = dict(base_batch_size=64)  # 8 GPUs x (4 + 4)
sync_bn = 'torch'

codec = _base_.codec  # RegressionLabel 256x192
labeled_pipeline = _base_.semi_easy_aug + [
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec), _base_.semi_pack_labeled
]
unlabeled_pipeline = _base_.semi_easy_aug + [
    dict(type='TopdownAffineWithMatrix', input_size=codec['input_size']),
    _base_.semi_pack_unlabeled
]
labeled_dataset = dict(
    _base_.semi_labeled_dataset, pipeline=labeled_pipeline,
    ann_file=f'semi_anns/person_keypoints_train2017.labeled@first{num_labeled}.json')
unlabeled_dataset = dict(_base_.semi_unlabeled_dataset, pipeline=unlabeled_pipeline)
train_dataloader = dict(
    _delete_=True, batch_size=8, num_workers=4, persistent_workers=True,
    sampler=dict(type='MixedRatioSampler', batch_size=8, source_ratio=[1, 1]),
    dataset=dict(type='ConcatDataset', ignore_keys=['CLASSES'],
                 datasets=[labeled_dataset, unlabeled_dataset]))
val_dataloader = dict(dataset=dict(bbox_file=None))  # GT boxes
test_dataloader = val_dataloader

estimator = _base_.model
estimator.test_cfg = dict(flip_test=False)  # as the paper reports
model = dict(
    _delete_=True,
    type='PoseDual',
    estimator=estimator,
    data_preprocessor=dict(type='MultiBranchPoseDataPreprocessor',
                           data_preprocessor=estimator.data_preprocessor),
    unsup_weight=1.0,
    score_thr=0.,
    teacher_mode='train',
    hard_affine=_base_.semi_hard_affine,
    joint_cutout=None,
    predict_on='ensemble')
val_cfg = dict(type='MultiModelValLoop')
test_cfg = dict(type='MultiModelTestLoop')
default_hooks = dict(checkpoint=dict(save_best='ensemble/coco/AP', rule='greater'))
custom_hooks = [
    dict(type='KeypointCountCheckHook'),
    dict(type='CollapseMonitorHook', interval=50),
]
model_wrapper_cfg = dict(type='MMSeparateDistributedDataParallel', broadcast_buffers=False,
                         find_unused_parameters=False)
