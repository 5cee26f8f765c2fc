# PoseDual + Joint Cutout (m = 5), ResNet-18, COCO 1K (seed 000, paper: 44.6 AP).
_base_ = ['../_base_/posedual_semi-coco.py']
model = dict(joint_cutout=dict(_delete_=True, num_joints=5, jitter=10., half_size_range=(10., 20.)))
# the release's COCO-1K +JC / +RandAug files: 70 epochs [50, 60]
train_cfg = dict(max_epochs=70)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=70, milestones=[50, 60], gamma=0.1, by_epoch=True)
]
