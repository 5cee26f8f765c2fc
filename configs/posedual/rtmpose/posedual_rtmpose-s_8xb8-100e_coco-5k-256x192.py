# PoseDual with RTMPose-s, COCO 5K labeled: the 1K config with the 5000-instance
# split and the 100-epoch schedule of the release's 5K/10K files.
_base_ = ['./posedual_rtmpose-s_8xb8-30e_coco-1k-256x192.py']
labeled_dataset = _base_.labeled_dataset
labeled_dataset.ann_file = 'semi_anns/person_keypoints_train2017.labeled@first5000.json'
unlabeled_dataset = _base_.unlabeled_dataset
train_dataloader = dict(dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]))
max_epochs = 100
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=1.0e-5, by_epoch=False, begin=0, end=1000),
    dict(type='CosineAnnealingLR', eta_min=_base_.base_lr * 0.05, begin=max_epochs // 2,
         end=max_epochs, by_epoch=True, convert_to_iter_based=True)
]
