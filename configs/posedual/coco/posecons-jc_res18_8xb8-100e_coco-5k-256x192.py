# PoseCons + Joint Cutout, ResNet-18, COCO 5K labeled (seed 000, paper: 52.3 AP).
# Same as the 1K config with the 5000-instance split and the 100-epoch schedule [70, 90].
_base_ = ['./posecons-jc_res18_8xb8-70e_coco-1k-256x192.py']
labeled_dataset = _base_.labeled_dataset
labeled_dataset.ann_file = 'semi_anns/person_keypoints_train2017.labeled@first5000.json'
unlabeled_dataset = _base_.unlabeled_dataset
train_dataloader = dict(dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]))
train_cfg = dict(max_epochs=100)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=100, milestones=[70, 90], gamma=0.1, by_epoch=True)
]
