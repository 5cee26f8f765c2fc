# Soft Teacher + GbR + GbT + CrS on the MS-COCO -> Objects365 sub-task (365 classes).
# Seed section 6: 16k-iteration warm-up (the release uses 32000 here) and a smaller gamma.
# The release (configs/soft_teacher/ubsoft_teacher_grs_..._object365_360k.py): 360k
# iterations (lr steps 280k / 320k), labeled RFS t = 0.02, gamma (CrS lambda) 0.05, CrS
# refresh every 36000 iterations, labeled GbR beta 0.8. As in the release
# (tools/split_dataset_object365.py and its labeled ConcatDataset), the labeled file holds
# COCO train2017 (boxes relabeled to Objects365 classes, 'sports ball' dropped) plus listed
# Objects365 images with all their boxes, the unlabeled file the rest of Objects365 train;
# the class groups file names the 287 classes without a COCO counterpart (minority). The
# release's image list is not published: mmssl takes images until each minority class has
# 10 instances (--labeled-ids takes a given list instead):
#   python tools/misc/split_coco_imbalance.py \
#       data/objects365/annotations/zhiyuan_objv2_train.json --protocol objects365 \
#       --coco-ann data/coco/annotations/instances_train2017.json
# COCO images are named train2017/<file> in the labeled file; Objects365V2Dataset keeps one
# folder level, so link them beside the patch folders:
#   ln -s $PWD/data/coco/train2017 data/objects365/train/train2017
_base_ = ['./ci-ssod_soft-teacher_faster-rcnn_r50-caffe_fpn_180k_coco-split1.py']

num_classes = 365
warmup_iters = 16000
max_iters = 360000
data_root = 'data/objects365/'
class_groups_file = data_root + 'semi_anns/ci_ssod/ci_ssod_objects365_classes.json'
labeled_dataset = _base_.labeled_dataset
unlabeled_dataset = _base_.unlabeled_dataset
labeled_dataset.update(
    type='Objects365V2Dataset', data_root=data_root,
    ann_file='semi_anns/ci_ssod/objects365_train.labeled.json', data_prefix=dict(img='train/'))
unlabeled_dataset.update(
    type='Objects365V2Dataset', data_root=data_root,
    ann_file='semi_anns/ci_ssod/objects365_train.unlabeled.json',
    data_prefix=dict(img='train/'))
train_dataloader = dict(
    dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]),
    sampler=dict(labeled_oversample_thr=0.02))
val_dataloader = dict(
    dataset=dict(
        type='Objects365V2Dataset', data_root=data_root,
        ann_file='annotations/zhiyuan_objv2_val.json', data_prefix=dict(img='val/')))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='GroupCocoMetric', ann_file=data_root + 'annotations/zhiyuan_objv2_val.json',
    minority_classes=None, class_groups_file=class_groups_file)
test_evaluator = val_evaluator

model = dict(
    detector=dict(
        roi_head=dict(
            bbox_head=dict(
                num_classes=num_classes,
                loss_cls=dict(num_classes=num_classes, warmup_iters=warmup_iters,
                              branches=dict(sup=dict(beta=0.8)))))),
    semi_train_cfg=dict(gbt=dict(warmup_iters=warmup_iters)))

train_cfg = dict(max_iters=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=max_iters, by_epoch=False,
         milestones=[280000, 320000], gamma=0.1)
]

custom_hooks = [
    dict(type='MeanTeacherHook'),
    dict(type='CISSODStatisticsHook', interval=50, class_groups_file=class_groups_file),
    dict(type='CrSRefreshHook', interval=36000, lam=0.05),
]
