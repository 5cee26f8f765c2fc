# Soft Teacher baseline on the CI-SSOD MS-COCO split1 (20 VOC classes are the minority).
# Make the annotation files with:
#   python tools/misc/split_coco_imbalance.py data/coco/annotations/instances_train2017.json \
#       --split 1 --out-dir data/coco/semi_anns/ci_ssod
_base_ = ['mmdet::soft_teacher/soft-teacher_faster-rcnn_r50-caffe_fpn_180k_semi-0.1-coco.py']
custom_imports = dict(imports=['mmssl'], allow_failed_imports=False)

split = 'split1'
minority_classes = [
    'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'boat', 'bird',
    'cat', 'dog', 'horse', 'sheep', 'cow', 'bottle', 'chair', 'couch', 'potted plant',
    'dining table', 'tv'
]

labeled_dataset = _base_.labeled_dataset
unlabeled_dataset = _base_.unlabeled_dataset
labeled_dataset.ann_file = 'semi_anns/ci_ssod/instances_train2017.split1.labeled.json'
unlabeled_dataset.ann_file = 'semi_anns/ci_ssod/instances_train2017.split1.unlabeled.json'
unlabeled_dataset.data_prefix = dict(img='train2017/')
train_dataloader = dict(dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]))

# AP on all / majority / minority classes.
val_evaluator = dict(type='GroupCocoMetric', minority_classes=minority_classes)
test_evaluator = val_evaluator
