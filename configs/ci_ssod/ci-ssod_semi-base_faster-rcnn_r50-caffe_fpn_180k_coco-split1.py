# GbR + GbT + CrS on mmdet's plain teacher-student detector (SemiBaseDetector: EMA teacher,
# hard pseudo-labels for the whole student loss; the Unbiased-Teacher-style recipe that
# mmdet 3.3 provides; it has no Unbiased Teacher itself). Same data, sampler and hooks as the
# Soft Teacher CI-SSOD config.
_base_ = ['./ci-ssod_soft-teacher_faster-rcnn_r50-caffe_fpn_180k_coco-split1.py']

model = dict(
    type='CISemiBaseDetector',
    semi_train_cfg=dict(
        _delete_=True,
        freeze_teacher=True,
        sup_weight=1.0,
        unsup_weight=4.0,
        cls_pseudo_thr=0.9,  # GbT base threshold tau (0.7 in Unbiased Teacher)
        pseudo_label_initial_score_thr=0.5,  # GbT lower clamp
        min_pseudo_bbox_wh=(1e-2, 1e-2),
        # one pseudo-label filter for RPN and R-CNN (the parent's): always class-wise
        gbt=dict(enable=True, warmup_iters=_base_.warmup_iters, momentum=0.999, num_init=1000,
                 rpn='class_wise')))
