# PoseDual with RTMPose-s (MMPose's unmodified config: CSPNeXt-s + RTMCCHead, SimCC codec),
# COCO 1K labeled + COCO 150K unlabeled; beyond the paper (seed 000 trains heatmap models).
# The networks teach each other through the SimCC codec: a teacher's SimCC vectors on the easy
# view are decoded, its keypoints moved to the hard view with the hard affine and encoded as
# the student's SimCC labels, each keypoint weighted by the teacher's SimCC maximum (score).
# Recipe: the release's data protocol and steps (8 GPUs x (4 + 4), 30 epochs of max(L, U) for
# 1K, 100 for 5K/10K) with RTMPose's optimiser (AdamW, its lr 4e-3 at 1024 crops scaled
# linearly to the 64 crops of a step, 1000-iteration warm-up, cosine over the second half),
# EMA as RTMPose-s has it. The backbone starts from ImageNet (CSPNeXt-s of RTMDet), not from RTMPose's
# COCO+AIC pose checkpoint, which has seen every COCO label. The labeled crops get the
# release's augmentation for the whole run, so RTMPose's stage-2 switch to a milder pipeline
# has no counterpart here (SourcePipelineSwitchHook switches the labeled source if wanted;
# mmdet's PipelineSwitchHook is refused on the two-source dataset).
_base_ = [
    'mmpose::body_2d_keypoint/rtmpose/coco/rtmpose-s_8xb256-420e_coco-256x192.py',
    '../_base_/posedual_semi-coco-parts.py'
]
custom_imports = dict(imports=['mmssl'], allow_failed_imports=False)

num_labeled = 1000
max_epochs = 30
base_lr = 4e-3 * 64 / 1024
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
optim_wrapper = dict(optimizer=dict(lr=base_lr))
param_scheduler = [
    dict(type='LinearLR', start_factor=1.0e-5, by_epoch=False, begin=0, end=1000),
    dict(type='CosineAnnealingLR', eta_min=base_lr * 0.05, begin=max_epochs // 2,
         end=max_epochs, by_epoch=True, convert_to_iter_based=True)
]
auto_scale_lr = dict(base_batch_size=64)  # 8 GPUs x (4 + 4)

codec = _base_.codec  # SimCCLabel 256x192, simcc_split_ratio 2
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
estimator.backbone.init_cfg = dict(
    type='Pretrained', prefix='backbone.',
    checkpoint='https://download.openmmlab.com/mmdetection/v3.0/rtmdet/cspnext_rsb_pretrain/'
    'cspnext-s_imagenet_600e.pth')
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
    # RTMPose-s's EMA (ExpMomentumEMA): on PoseDual it averages both networks; validation
    # and checkpoints (state_dict = the EMA weights) cover net1, net2 and the ensemble
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0002, update_buffers=True,
         priority=49),
    dict(type='KeypointCountCheckHook'),
    dict(type='CollapseMonitorHook', interval=50),
]
model_wrapper_cfg = dict(type='MMSeparateDistributedDataParallel', broadcast_buffers=False,
                         find_unused_parameters=False)
