# Seed Table 2 (suppl.): gamma = 0.1 (the method config uses 0.5). gamma is the final CrS
# frequency threshold lambda of r(c) = max(1, sqrt(lambda / f(c))) (CrSRefreshHook 'lam';
# the release's 'alpha': 0.5 on COCO, 0.05 on Objects365 / LVIS - "a smaller gamma" there).
_base_ = ['../ci-ssod_soft-teacher_faster-rcnn_r50-caffe_fpn_180k_coco-split1.py']

custom_hooks = [
    dict(type='MeanTeacherHook'),
    dict(type='CISSODStatisticsHook', interval=50, minority_classes=_base_.minority_classes),
    dict(type='CrSRefreshHook', interval=_base_.crs.interval, lam=0.1),
]
