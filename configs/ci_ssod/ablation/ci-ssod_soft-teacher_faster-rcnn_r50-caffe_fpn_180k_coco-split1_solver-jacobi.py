# Seed section 2 (suppl.): GbR class weights by the 'jacobi' solver instead of the learnable
# Jacobi module of the method config (the seed: both the learnable module and the direct
# solution reach 26.5 AP on split1; 'jacobi' is the release's plain damped Jacobi step).
_base_ = ['../ci-ssod_soft-teacher_faster-rcnn_r50-caffe_fpn_180k_coco-split1.py']

model = dict(detector=dict(roi_head=dict(bbox_head=dict(loss_cls=dict(solver='jacobi')))))
