# Soft Teacher + GbR + GbT + CrS on the LVIS v1 sub-task (1203 classes; AP on rare / common /
# frequent classes). Settings of the seed (section 6: 16k-iteration warm-up; a smaller gamma)
# and of the authors' release (configs/soft_teacher/ubsoft_teacher_grs_..._lvis_180k.py:
# labeled RFS t = 0.01, gamma (CrS lambda) 0.05, CrS refresh every 16000 iterations, labeled
# GbR beta 0.8). The labeled / unlabeled annotation files follow the release's LVIS split
# (tools/split_dataset_lvis.py there: labeled images keep all their annotations, the rest
# is unlabeled) and carry its file names. The release's image list is not published (its
# code counts 9946 labeled images, ~10 %); mmssl labels a random 10 % of the images (seed 1;
# --labeled-ids takes a given list instead):
#   python tools/misc/split_coco_imbalance.py data/lvis/annotations/lvis_v1_train.json \
#       --protocol lvis
# LVIS files are read with the COCO API (LVISV1CocoFormatDataset, no 'lvis' package) and
# evaluated with COCOeval (not LVIS's federated evaluation; see GroupCocoMetric).
_base_ = ['./ci-ssod_soft-teacher_faster-rcnn_r50-caffe_fpn_180k_coco-split1.py']

num_classes = 1203
warmup_iters = 16000
data_root = 'data/lvis/'
labeled_dataset = _base_.labeled_dataset
unlabeled_dataset = _base_.unlabeled_dataset
labeled_dataset.update(
    type='LVISV1CocoFormatDataset', data_root=data_root,
    ann_file='annotations/lvis_v1_train_lvis_label.json',
    data_prefix=dict(img=''))  # file names are 'train2017/<id>.jpg' (from coco_url)
unlabeled_dataset.update(
    type='LVISV1CocoFormatDataset', data_root=data_root,
    ann_file='annotations/lvis_v1_train_lvis_unlabel.json', data_prefix=dict(img=''))
train_dataloader = dict(
    dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]),
    sampler=dict(labeled_oversample_thr=0.01))
val_dataloader = dict(
    dataset=dict(
        type='LVISV1CocoFormatDataset', data_root=data_root,
        ann_file='annotations/lvis_v1_val.json', data_prefix=dict(img='')))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='GroupCocoMetric', ann_file=data_root + 'annotations/lvis_v1_val.json',
    minority_classes=None, frequency_groups=True)
test_evaluator = val_evaluator

model = dict(
    detector=dict(
        roi_head=dict(
            bbox_head=dict(
                num_classes=num_classes,
                loss_cls=dict(num_classes=num_classes, warmup_iters=warmup_iters,
                              branches=dict(sup=dict(beta=0.8)))))),
    semi_train_cfg=dict(gbt=dict(warmup_iters=warmup_iters)))

custom_hooks = [
    dict(type='MeanTeacherHook'),
    dict(type='CISSODStatisticsHook', interval=50),  # one 'all' group in the logs
    dict(type='CrSRefreshHook', interval=16000, lam=0.05),
]
