# GbR + GbT + CrS on mmdet's plain teacher-student detector (CISemiBaseDetector) on the
# CI-SSOD MS-COCO split2 (40 minority classes): the split1 semi-base config with the split2
# data, groups and hooks of ci-ssod_soft-teacher_..._coco-split2.py.
_base_ = ['./ci-ssod_semi-base_faster-rcnn_r50-caffe_fpn_180k_coco-split1.py']

split = 'split2'
class_groups_file = 'data/coco/semi_anns/ci_ssod/ci_ssod_split2_classes.json'
labeled_dataset = _base_.labeled_dataset
unlabeled_dataset = _base_.unlabeled_dataset
labeled_dataset.ann_file = 'semi_anns/ci_ssod/instances_train2017.split2.labeled.json'
unlabeled_dataset.ann_file = 'semi_anns/ci_ssod/instances_train2017.split2.unlabeled.json'
train_dataloader = dict(dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]))

val_evaluator = dict(
    type='GroupCocoMetric', minority_classes=None, class_groups_file=class_groups_file)
test_evaluator = val_evaluator

custom_hooks = [
    dict(type='MeanTeacherHook'),
    dict(type='CISSODStatisticsHook', interval=50, class_groups_file=class_groups_file),
    dict(type='CrSRefreshHook', **_base_.crs),
]
