# Supervised baseline: ResNet-152 SimpleBaseline on MPII train only (seed 000 Table 10,
# paper: 88.7 PCKh@0.5), comparable to posedual_res152_8xb8-100e_mpii-aic: the schedule and
# data of supervised_res101_8xb4-1182k_mpii (the PoseDual run's optimizer steps, 32 labeled
# crops per step), the ResNet-152 estimator of the PoseDual config.
_base_ = ['./supervised_res101_8xb4-1182k_mpii-256x256.py']
model = dict(backbone=dict(depth=152, init_cfg=dict(type='Pretrained',
                                                    checkpoint='torchvision://resnet152')))
