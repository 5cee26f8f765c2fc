# CPU-scale CI-SSOD on the synthetic long-tail shape set (tools/misc/make_synthetic_detection.py):
# the COCO split1 method config with a tiny ResNet-18 Faster R-CNN, 128 px images and a short
# schedule. Start from the supervised burn-in checkpoint of
# faster-rcnn_r18-tiny_synthetic-labeled.py (load_from) so the teacher is useful from the start.
_base_ = ['../ci-ssod_soft-teacher_faster-rcnn_r50-caffe_fpn_180k_coco-split1.py']

data_root = 'data/ci_ssod_synthetic/'
classes = ('circle', 'square', 'triangle', 'diamond', 'cross', 'ring')
minority_classes = ['diamond', 'cross', 'ring']
num_classes = 6
batch_size = 3  # 1 labeled + 2 unlabeled images per iteration
max_iters = 800
warmup_iters = 200  # GbR/GbT warm-up (COCO: 4000 of 180k)

# ----- tiny detector: ResNet-18 (16 base channels, GroupNorm), 32-channel FPN -----
norm_cfg = dict(type='GN', num_groups=8, requires_grad=True)
preprocessor = dict(
    type='DetDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_size_divisor=32)
model = dict(
    detector=dict(
        data_preprocessor=preprocessor,
        backbone=dict(
            _delete_=True,
            type='ResNet',
            depth=18,
            base_channels=16,
            num_stages=4,
            out_indices=(0, 1, 2, 3),
            frozen_stages=-1,
            norm_cfg=norm_cfg,
            norm_eval=False,
            style='pytorch',
            init_cfg=None),
        neck=dict(in_channels=[16, 32, 64, 128], out_channels=32),
        rpn_head=dict(in_channels=32, feat_channels=32),
        roi_head=dict(
            bbox_roi_extractor=dict(out_channels=32),
            bbox_head=dict(
                in_channels=32,
                fc_out_channels=128,
                num_classes=num_classes,
                loss_cls=dict(num_classes=num_classes, warmup_iters=warmup_iters,
                              solver='jacobi'))),
        train_cfg=dict(
            rpn_proposal=dict(nms_pre=500, max_per_img=300),
            rcnn=dict(sampler=dict(num=128))),
        test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=300))),
    data_preprocessor=dict(data_preprocessor=preprocessor),
    semi_train_cfg=dict(gbt=dict(warmup_iters=warmup_iters, num_init=100)))

# ----- data: 128 px images, small resize range -----
color_space = _base_.color_space
geometric = _base_.geometric
branch_field = _base_.branch_field
train_scale = [(1333, 112), (1333, 144)]
meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
             'flip_direction', 'homography_matrix')
sup_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomResize', scale=train_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandAugment', aug_space=color_space, aug_num=1),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
    dict(type='MultiBranch', branch_field=branch_field, sup=dict(type='PackDetInputs')),
]
weak_pipeline = [
    dict(type='RandomResize', scale=train_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs', meta_keys=meta_keys),
]
strong_pipeline = [
    dict(type='RandomResize', scale=train_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='RandomOrder',
        transforms=[
            dict(type='RandAugment', aug_space=color_space, aug_num=1),
            dict(type='RandAugment', aug_space=geometric, aug_num=1),
        ]),
    dict(type='RandomErasing', n_patches=(1, 3), ratio=(0, 0.1)),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
    dict(type='PackDetInputs', meta_keys=meta_keys),
]
unsup_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadEmptyAnnotations'),
    dict(
        type='MultiBranch',
        branch_field=branch_field,
        unsup_teacher=weak_pipeline,
        unsup_student=strong_pipeline),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1333, 128), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
labeled_dataset = dict(
    type='CocoDataset',
    data_root=data_root,
    metainfo=dict(classes=classes),
    ann_file='annotations/train_labeled.json',
    data_prefix=dict(img='images/'),
    filter_cfg=dict(filter_empty_gt=True, min_size=4),
    pipeline=sup_pipeline)
unlabeled_dataset = dict(
    type='CocoDataset',
    data_root=data_root,
    metainfo=dict(classes=classes),
    ann_file='annotations/train_unlabeled.json',
    data_prefix=dict(img='images/'),
    filter_cfg=dict(filter_empty_gt=False),
    pipeline=unsup_pipeline)
train_dataloader = dict(
    batch_size=batch_size,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(batch_size=batch_size, source_ratio=[1, 2]),
    dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    dataset=dict(
        data_root=data_root,
        metainfo=dict(classes=classes),
        ann_file='annotations/val.json',
        data_prefix=dict(img='images/'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    ann_file=data_root + 'annotations/val.json', minority_classes=minority_classes)
test_evaluator = val_evaluator

# ----- schedule -----
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', begin=0, end=max_iters, by_epoch=False,
         milestones=[int(max_iters * 0.8)], gamma=0.1),
]
optim_wrapper = dict(optimizer=dict(lr=0.004), clip_grad=dict(max_norm=10, norm_type=2))
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1))
custom_hooks = [
    dict(type='MeanTeacherHook', momentum=0.01),  # short run: faster teacher EMA
    dict(type='CISSODStatisticsHook', interval=25, minority_classes=minority_classes),
    dict(type='CrSRefreshHook', interval=100, lam=0.5),
]
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(vis_backends=vis_backends)
