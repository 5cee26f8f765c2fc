# Soft Teacher + GbR + GbT + CrS (seed 004) on the CI-SSOD MS-COCO split1.
_base_ = ['./soft-teacher_faster-rcnn_r50-caffe_fpn_180k_coco-split1.py']

# ----- method hyper-parameters (seed 004 / authors' release) -----
warmup_iters = 4000  # GbR and GbT off (w = 1, theta = 0.9) before this iteration
gbr = dict(
    type='GbRCrossEntropyLoss',
    num_classes=80,
    warmup_iters=warmup_iters,
    momentum=0.999,  # EMA of the gradient matrix after warm-up
    solver='learnable',  # or 'jacobi'; same AP on COCO (seed section 2)
    branches=dict(
        sup=dict(beta=0.5, grad_scale=1.0),  # beta of labeled RoIs (seed Table 1)
        unsup=dict(beta=1.0, grad_scale=4.0)),  # unlabeled RoIs; scale = unsup_weight
    min_weight=1 / 3,
    max_weight=5.0,
    max_bg_weight=1.0)
# rpn: which pseudo-labels train the RPN; 'fixed' = Soft Teacher's rpn_pseudo_thr (0.9, the
# release), 'class_wise' = the GbT thresholds as for the R-CNN (issue 13 item 4).
gbt = dict(enable=True, warmup_iters=warmup_iters, momentum=0.999, num_init=1000, rpn='fixed')
crs = dict(interval=4000, lam=0.5)  # refresh period, final lambda (grows linearly)
labeled_rfs_thr = 0.1  # repeat-factor sampling threshold of the labeled set

model = dict(
    type='CISoftTeacher',
    detector=dict(roi_head=dict(bbox_head=dict(loss_cls=dict(_delete_=True, **gbr)))),
    semi_train_cfg=dict(gbt=gbt))

train_dataloader = dict(
    sampler=dict(
        _delete_=True,
        type='ClassRebalancingSampler',
        batch_size=_base_.batch_size,
        source_ratio=[1, 4],
        labeled_oversample_thr=labeled_rfs_thr))

custom_hooks = [
    dict(type='MeanTeacherHook'),
    dict(type='CISSODStatisticsHook', interval=50,
         minority_classes=_base_.minority_classes),
    dict(type='CrSRefreshHook', **crs),
]
