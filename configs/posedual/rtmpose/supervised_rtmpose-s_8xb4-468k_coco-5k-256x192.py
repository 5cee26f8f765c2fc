# Supervised baseline of ./posedual_rtmpose-s_8xb8-100e_coco-5k-256x192.py: RTMPose-s on the COCO
# 5K labeled instances only, 32 labeled crops per step (8 GPUs x 4), the same augmentation
# and the same optimizer steps as its PoseDual row (100 epochs x 4687 = 468700), with its
# warm-up and its cosine over the second half of the steps.
_base_ = ['./supervised_rtmpose-s_8xb4-140k_coco-1k-256x192.py']
labeled_dataset = _base_.labeled_dataset
labeled_dataset.ann_file = 'semi_anns/person_keypoints_train2017.labeled@first5000.json'
train_dataloader = dict(dataset=labeled_dataset)
max_iters = 468700
train_cfg = dict(max_iters=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=1.0e-5, by_epoch=False, begin=0, end=1000),
    dict(type='CosineAnnealingLR', eta_min=_base_.base_lr * 0.05, begin=max_iters // 2,
         end=max_iters, by_epoch=False)
]
