# STLD-TF-HRNet on 300W (seed 003): HRNetV2-W18 backbone (ImageNet init as in MMPose's config),
# its lowest-resolution branch (144 channels, stride 32, 8x8) as the memory of the transformer
# decoder head (STLDTransformerHead). Which HRNet feature map the release feeds to the decoder
# is not stated in the paper; the stride-32 branch keeps the decoder's cost equal to R18's.
_base_ = ['./stld-tf_res18_1xb16-360e_300w-256x256.py']

# the release oversamples the labeled set to os_num = 1000 in its HRNet files
self_training = dict(labeled_min_size=1000)

model = dict(
    backbone=dict(
        _delete_=True,
        type='HRNet',
        in_channels=3,
        extra=dict(
            stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(4, ),
                        num_channels=(64, )),
            stage2=dict(num_modules=1, num_branches=2, block='BASIC', num_blocks=(4, 4),
                        num_channels=(18, 36)),
            stage3=dict(num_modules=4, num_branches=3, block='BASIC', num_blocks=(4, 4, 4),
                        num_channels=(18, 36, 72)),
            stage4=dict(num_modules=3, num_branches=4, block='BASIC',
                        num_blocks=(4, 4, 4, 4), num_channels=(18, 36, 72, 144),
                        multiscale_output=True),
            upsample=dict(mode='bilinear', align_corners=False)),
        init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://msra/hrnetv2_w18')),
    neck=dict(_delete_=True, type='FeatureMapProcessor', select_index=(3, )),
    head=dict(in_channels=144))
