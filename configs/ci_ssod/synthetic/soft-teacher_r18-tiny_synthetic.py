# Soft Teacher baseline of the synthetic CPU-scale comparison: the same detector, data,
# labeled sampling (RFS on the labeled set, t = 0.1: the seed's strong baseline) and schedule
# as ci-ssod_soft-teacher_r18-tiny_synthetic.py, with GbR, GbT and CrS switched off. The
# classification loss stays GbRCrossEntropyLoss with reweight=False (plain softmax cross
# entropy that only records gradient statistics) and GbT is disabled (theta = cls_pseudo_thr
# for every class), so the model computes exactly Soft Teacher's losses (checked by
# tests/test_ci_ssod/test_ci_soft_teacher.py) while logging the same curves for the plots.
# Without the CrS refresh hook the sampler draws the unlabeled images uniformly.
_base_ = ['./ci-ssod_soft-teacher_r18-tiny_synthetic.py']

model = dict(
    detector=dict(roi_head=dict(bbox_head=dict(loss_cls=dict(reweight=False)))),
    semi_train_cfg=dict(gbt=dict(enable=False)))
custom_hooks = [
    dict(type='MeanTeacherHook', momentum=0.01),
    dict(type='CISSODStatisticsHook', interval=25, minority_classes=_base_.minority_classes),
]
