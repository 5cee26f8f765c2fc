# Shared parts of the PoseDual COCO configs (seed 000). Inherit it, set `estimator` (and the
# codec) in the child, and pick a labeled split; see ../README.md.
#   labeled:   the first N non-crowd persons with keypoints of person_keypoints_train2017.json
#              (tools/misc/split_coco_keypoints.py --first-n N), augmented as the release
#              does: the easy view's distribution, no half-body
#   unlabeled: train2017 persons with >= 1 labeled keypoint (GT boxes, keypoints unused;
#              the paper's COCO 150K), easy view only;
#              the hard view (Joint Cutout, extra affine) is made on the batch tensor
#   batches:   the release's 32 labeled + 32 unlabeled crops per optimizer step, as 8 GPUs x
#              (4 + 4) with SyncBN (batch statistics over the 32 crops of a branch, as on the
#              release's one GPU); an epoch = max(len(L), len(U)) samples, so the release's
#              optimizer steps; other GPU counts: keep 32 + 32 in total (--cfg-options
#              train_dataloader.batch_size=... train_dataloader.sampler.batch_size=...)
#   optimiser: Adam lr 1e-3 (the release's, for 32 + 32 per step), wd 1e-4, x0.1 steps, no
#              warm-up; evaluation on val2017 with GT boxes, no flip test, for net1, net2 and
#              their heatmap ensemble
_base_ = ['mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_res50_8xb64-210e_coco-256x192.py']
custom_imports = dict(imports=['mmssl'], allow_failed_imports=False)

codec = dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2)
num_labeled = 1000
max_epochs = 30  # the release's COCO-1K PoseDual / PoseCons files: 30 epochs [20, 25]
milestones = [20, 25]

train_cfg = dict(max_epochs=max_epochs, val_interval=5)
# the release: Adam 1e-3, weight decay 1e-4, no warm-up
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3, weight_decay=1e-4))
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=max_epochs, milestones=milestones, gamma=0.1,
         by_epoch=True)
]
auto_scale_lr = dict(base_batch_size=64)  # 8 GPUs x (4 + 4)
sync_bn = 'torch'

branches = ['sup', 'unsup_teacher']
labeled_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='ClippedNormalBBoxTransform', scale_sigma=0.25, scale_range=(0.75, 1.25),
         rotate_sigma=30., rotate_limit=60., rotate_prob=0.6),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PoseMultiBranch', branch_field=branches, sup=[dict(type='PackSemiPoseInputs')])
]
# easy view: flip 0.5, scale clip(N(1, .25), .75, 1.25), rotation clip(N(0, 30), +-60), p .6
easy_view = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='ClippedNormalBBoxTransform', scale_sigma=0.25, scale_range=(0.75, 1.25),
         rotate_sigma=30., rotate_limit=60., rotate_prob=0.6),
    dict(type='TopdownAffineWithMatrix', input_size=codec['input_size']),
]
unlabeled_pipeline = easy_view + [
    dict(type='PoseMultiBranch', branch_field=branches,
         unsup_teacher=[dict(type='PackSemiPoseInputs')])
]
data_root = 'data/coco/'
labeled_dataset = dict(
    type='CocoDataset', data_root=data_root, data_mode='topdown',
    ann_file=f'semi_anns/person_keypoints_train2017.labeled@first{num_labeled}.json',
    data_prefix=dict(img='train2017/'), pipeline=labeled_pipeline)
# the paper's "COCO 150K": train2017 persons with >= 1 labeled keypoint (keypoints unused)
unlabeled_dataset = dict(
    type='UnlabeledTopDownDataset', data_root=data_root,
    ann_file='annotations/person_keypoints_train2017.json', min_num_keypoints=1,
    data_prefix=dict(img='train2017/'), pipeline=unlabeled_pipeline)
train_dataloader = dict(
    _delete_=True,
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='MixedRatioSampler', batch_size=8, source_ratio=[1, 1]),
    dataset=dict(type='ConcatDataset', ignore_keys=['CLASSES'],
                 datasets=[labeled_dataset, unlabeled_dataset]))
val_dataloader = dict(dataset=dict(bbox_file=None))  # GT boxes, as the paper reports
test_dataloader = val_dataloader

estimator = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(type='ResNet', depth=18,
                  init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    head=dict(type='HeatmapHead', in_channels=512, out_channels=17,
              loss=dict(type='KeypointMSELoss', use_target_weight=True), decoder=codec),
    test_cfg=dict(flip_test=False))
model = dict(
    _delete_=True,
    type='PoseDual',
    estimator=estimator,
    data_preprocessor=dict(type='MultiBranchPoseDataPreprocessor',
                           data_preprocessor=estimator['data_preprocessor']),
    unsup_weight=1.0,
    teacher_mode='train',
    hard_affine=dict(scale_sigma=0.25, scale_range=(0.75, 1.25), rot_sigma=30., rot_range=60.,
                     rot_prob=0.8),
    joint_cutout=None,
    predict_on='ensemble')
val_cfg = dict(type='MultiModelValLoop')
test_cfg = dict(type='MultiModelTestLoop')
default_hooks = dict(checkpoint=dict(save_best='ensemble/coco/AP', rule='greater'))
custom_hooks = [
    dict(type='KeypointCountCheckHook'),
    dict(type='CollapseMonitorHook', interval=50),
]
# one DDP wrapper per network, so that PoseDual.train_step back-propagates one loss term at a
# time (peak memory of one term's graph) and all-reduces each network's gradient once a step
model_wrapper_cfg = dict(type='MMSeparateDistributedDataParallel', broadcast_buffers=False,
                         find_unused_parameters=False)
