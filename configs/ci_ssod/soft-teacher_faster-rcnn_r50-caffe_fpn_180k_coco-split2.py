# Soft Teacher baseline on the CI-SSOD MS-COCO split2 (40 minority classes).
# The class groups are written by:
#   python tools/misc/split_coco_imbalance.py data/coco/annotations/instances_train2017.json \
#       --split 2 --out-dir data/coco/semi_anns/ci_ssod
_base_ = ['./soft-teacher_faster-rcnn_r50-caffe_fpn_180k_coco-split1.py']

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
