# PoseDual, ResNet-152: MPII train labeled + AI Challenger train unlabeled
# (seed 000 Table 10, PCKh@0.5 on MPII val; paper: 88.7 -> 90.5).
_base_ = ['../_base_/posedual_semi-mpii-aic.py']
model = dict(estimator=dict(
    backbone=dict(depth=152, init_cfg=dict(type='Pretrained',
                                           checkpoint='torchvision://resnet152')),
    head=dict(in_channels=2048)))
