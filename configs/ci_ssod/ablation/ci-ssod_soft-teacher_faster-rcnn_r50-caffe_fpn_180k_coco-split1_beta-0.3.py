# Seed Table 1 (suppl.): beta of the labeled GbR branch = 0.3 (the method config uses 0.5;
# the unlabeled branch keeps beta 1).
_base_ = ['../ci-ssod_soft-teacher_faster-rcnn_r50-caffe_fpn_180k_coco-split1.py']

model = dict(
    detector=dict(
        roi_head=dict(bbox_head=dict(loss_cls=dict(branches=dict(sup=dict(beta=0.3)))))))
