# Supervised baseline: ResNet-18 SimpleBaseline on the COCO 10K labeled instances only
# (seed 000, paper: 51.1 AP). As the 1K baseline, with the steps of the release's COCO-10K
# PoseDual run (100 epochs of 4687 steps = 468700) and its lr steps at 70/100 and 90/100.
_base_ = ['./supervised_res18_8xb4-141k_coco-1k-256x192.py']
labeled_dataset = _base_.labeled_dataset
labeled_dataset.ann_file = 'semi_anns/person_keypoints_train2017.labeled@first10000.json'
train_dataloader = dict(dataset=labeled_dataset)
max_iters = 468700
train_cfg = dict(max_iters=max_iters)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=max_iters, by_epoch=False, gamma=0.1,
         milestones=[max_iters * 70 // 100, max_iters * 90 // 100])
]
