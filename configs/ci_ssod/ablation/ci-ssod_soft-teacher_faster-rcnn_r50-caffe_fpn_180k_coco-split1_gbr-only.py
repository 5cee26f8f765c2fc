# Component ablation: GbR only (GbT off: fixed 0.9 thresholds; no CrS refresh). Labeled RFS
# (t = 0.1) as in the method config.
_base_ = ['../ci-ssod_soft-teacher_faster-rcnn_r50-caffe_fpn_180k_coco-split1.py']

model = dict(semi_train_cfg=dict(gbt=dict(enable=False)))
custom_hooks = [
    dict(type='MeanTeacherHook'),
    dict(type='CISSODStatisticsHook', interval=50, minority_classes=_base_.minority_classes),
]
