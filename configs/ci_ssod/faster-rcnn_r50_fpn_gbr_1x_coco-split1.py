# Supervised long-tail baseline: Faster R-CNN R50-FPN trained on the split1 labeled set with
# the GbR classification loss (plain supervised training uses GbR's 'sup' branch, beta 0.5).
_base_ = ['mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py']
custom_imports = dict(imports=['mmssl'], allow_failed_imports=False)

minority_classes = [
    'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'boat', 'bird',
    'cat', 'dog', 'horse', 'sheep', 'cow', 'bottle', 'chair', 'couch', 'potted plant',
    'dining table', 'tv'
]
model = dict(
    roi_head=dict(
        bbox_head=dict(
            loss_cls=dict(
                _delete_=True,
                type='GbRCrossEntropyLoss',
                num_classes=80,
                warmup_iters=4000,
                solver='learnable'))))

train_dataloader = dict(
    dataset=dict(ann_file='semi_anns/ci_ssod/instances_train2017.split1.labeled.json'))
val_evaluator = dict(type='GroupCocoMetric', minority_classes=minority_classes)
test_evaluator = val_evaluator
custom_hooks = [dict(type='CISSODStatisticsHook', interval=50,
                     minority_classes=minority_classes)]
