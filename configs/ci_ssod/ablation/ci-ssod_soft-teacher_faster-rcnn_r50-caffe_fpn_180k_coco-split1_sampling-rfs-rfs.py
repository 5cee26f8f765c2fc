# Seed Table 3 (suppl.) row RFS / RFS: RFS on the labeled set and RFS on the unlabeled set's
# pseudo-labels (CrSRefreshHook mode='rfs': the image factor is max r(c) of its kept
# pseudo-labels, without CrS's score margin; same refreshes and lambda as CrS).
_base_ = ['../ci-ssod_soft-teacher_faster-rcnn_r50-caffe_fpn_180k_coco-split1.py']

custom_hooks = [
    dict(type='MeanTeacherHook'),
    dict(type='CISSODStatisticsHook', interval=50, minority_classes=_base_.minority_classes),
    dict(type='CrSRefreshHook', mode='rfs', **_base_.crs),
]
