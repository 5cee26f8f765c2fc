# Seed Table 3 (suppl.) row RFS / Random: RFS on the labeled set (t = 0.1), unlabeled images
# drawn uniformly (no CrS refresh).
_base_ = ['../ci-ssod_soft-teacher_faster-rcnn_r50-caffe_fpn_180k_coco-split1.py']

custom_hooks = [
    dict(type='MeanTeacherHook'),
    dict(type='CISSODStatisticsHook', interval=50, minority_classes=_base_.minority_classes),
]
