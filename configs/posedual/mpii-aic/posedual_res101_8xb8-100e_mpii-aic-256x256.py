# PoseDual, ResNet-101: MPII train labeled + AI Challenger train unlabeled
# (seed 000 Table 10, PCKh@0.5 on MPII val; paper: 88.1 -> 89.8).
_base_ = ['../_base_/posedual_semi-mpii-aic.py']
model = dict(estimator=dict(
    backbone=dict(depth=101, init_cfg=dict(type='Pretrained',
                                           checkpoint='torchvision://resnet101')),
    head=dict(in_channels=2048)))
