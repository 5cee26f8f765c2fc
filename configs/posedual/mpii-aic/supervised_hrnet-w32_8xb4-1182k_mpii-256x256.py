# Supervised baseline: HRNet-W32 on MPII train only (seed 000 Table 10, paper: 89.5
# PCKh@0.5), comparable to posedual_hrnet-w32_8xb8-100e_mpii-aic: the schedule and data of
# supervised_res101_8xb4-1182k_mpii (the PoseDual run's optimizer steps, 32 labeled crops per
# step), the HRNet-W32 estimator of the PoseDual config.
_base_ = ['./supervised_res101_8xb4-1182k_mpii-256x256.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='HRNet',
        in_channels=3,
        extra=dict(
            stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(4, ),
                        num_channels=(64, )),
            stage2=dict(num_modules=1, num_branches=2, block='BASIC', num_blocks=(4, 4),
                        num_channels=(32, 64)),
            stage3=dict(num_modules=4, num_branches=3, block='BASIC', num_blocks=(4, 4, 4),
                        num_channels=(32, 64, 128)),
            stage4=dict(num_modules=3, num_branches=4, block='BASIC',
                        num_blocks=(4, 4, 4, 4), num_channels=(32, 64, 128, 256))),
        init_cfg=dict(type='Pretrained', checkpoint='https://download.openmmlab.com/mmpose/'
                      'pretrain_models/hrnet_w32-36af842e.pth')),
    head=dict(in_channels=32, deconv_out_channels=None))
