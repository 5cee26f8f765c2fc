# Seed Table 3 (suppl.) row Random / Random: GbR + GbT, labeled and unlabeled images drawn
# uniformly (no RFS: labeled_oversample_thr=0; no CrS refresh: unlabeled factors stay 1).
_base_ = ['../ci-ssod_soft-teacher_faster-rcnn_r50-caffe_fpn_180k_coco-split1.py']

train_dataloader = dict(sampler=dict(labeled_oversample_thr=0.0))
custom_hooks = [
    dict(type='MeanTeacherHook'),
    dict(type='CISSODStatisticsHook', interval=50, minority_classes=_base_.minority_classes),
]
