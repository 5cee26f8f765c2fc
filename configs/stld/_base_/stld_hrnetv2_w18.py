# HRNetV2-W18 of STLD's HRNet models (seed 003; release lib/hrnetv2.py, lib/networks.py), as
# MMPose's own hrnetv2 face model builds it (td-hm_hrnetv2-w18_8xb64-60e_300w-256x256.py):
# ImageNet-initialised HRNet with four branches (18/36/72/144 channels at strides 4..32); the
# FeatureMapProcessor neck upsamples them bilinearly to stride 4 and concatenates them into ONE
# 270-channel map at stride 4 (64x64 for a 256x256 crop). Both STLD heads read that map:
# - HM: 1x1 conv (270) -> 1x1 outputs (the release's Map_hrnet head, MMPose's HRNetV2 head);
# - TF: the decoder's memory directly (the release's TF_hrnet sets the HRNet head to Identity
#   and projects Conv2d(270, 256)); the 4096-token memory is what makes TF-HRNet the costly
#   model of the paper's Table VI (22 h vs 3.5 h for HM-HRNet).
# The model bases take these as `_base_.stld_hrnetv2_w18_*`.
stld_hrnetv2_w18_backbone = dict(
    type='HRNet',
    in_channels=3,
    extra=dict(
        stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(4, ),
                    num_channels=(64, )),
        stage2=dict(num_modules=1, num_branches=2, block='BASIC', num_blocks=(4, 4),
                    num_channels=(18, 36)),
        stage3=dict(num_modules=4, num_branches=3, block='BASIC', num_blocks=(4, 4, 4),
                    num_channels=(18, 36, 72)),
        stage4=dict(num_modules=3, num_branches=4, block='BASIC', num_blocks=(4, 4, 4, 4),
                    num_channels=(18, 36, 72, 144), multiscale_output=True),
        upsample=dict(mode='bilinear', align_corners=False)),
    init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://msra/hrnetv2_w18'))
stld_hrnetv2_w18_neck = dict(type='FeatureMapProcessor', concat=True)
stld_hrnetv2_w18_channels = 18 + 36 + 72 + 144  # 270, the concatenated stride-4 map
