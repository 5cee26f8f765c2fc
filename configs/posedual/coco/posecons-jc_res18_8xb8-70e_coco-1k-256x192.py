# PoseCons + Joint Cutout, ResNet-18, COCO 1K (seed 000, paper: 42.1 AP).
_base_ = ['../_base_/posedual_semi-coco.py']
model = dict(type='PoseCons', predict_on='net1',
             joint_cutout=dict(_delete_=True, num_joints=5, jitter=10., half_size_range=(10., 20.)))
default_hooks = dict(checkpoint=dict(save_best='net1/coco/AP'))
# the release's COCO-1K +JC / +RandAug files: 70 epochs [50, 60]
train_cfg = dict(max_epochs=70)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=70, milestones=[50, 60], gamma=0.1, by_epoch=True)
]
