# Component ablation: GbT only. The GbR loss solves the class weights (they set the GbT
# thresholds, theta_c <= 0.9 / w_c) but does not reweight: reweight=False is plain cross
# entropy. No CrS refresh; labeled RFS (t = 0.1) as in the method config.
_base_ = ['../ci-ssod_soft-teacher_faster-rcnn_r50-caffe_fpn_180k_coco-split1.py']

model = dict(detector=dict(roi_head=dict(bbox_head=dict(loss_cls=dict(reweight=False)))))
custom_hooks = [
    dict(type='MeanTeacherHook'),
    dict(type='CISSODStatisticsHook', interval=50, minority_classes=_base_.minority_classes),
]
