# PoseCons (one network, its own teacher, easy/hard views), ResNet-18, COCO 1K
# (seed 000, paper: 38.5 AP).
_base_ = ['../_base_/posedual_semi-coco.py']
model = dict(type='PoseCons', predict_on='net1')
default_hooks = dict(checkpoint=dict(save_best='net1/coco/AP'))
