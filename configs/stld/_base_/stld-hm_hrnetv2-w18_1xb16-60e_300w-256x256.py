# STLD-HM-HRNet on 300W (seed 003): the STLD-HM-R18 recipe on 300W
# (./stld-hm_res18_1xb16-60e_300w-256x256.py) with MMPose's HRNetV2-W18 model
# (./stld_hrnetv2_w18.py): the concatenated 270-channel stride-4 map -> 1x1 conv (270) ->
# STLDHeatmapHead's main and shrink 1x1 outputs (no deconvolutions). The per-ratio configs in
# configs/stld/ only name the split files.
_base_ = ['./stld-hm_res18_1xb16-60e_300w-256x256.py', './stld_hrnetv2_w18.py']

# the release oversamples the labeled set to os_num = 1000 in its HRNet files
self_training = dict(labeled_min_size=1000)

model = dict(
    backbone=dict(_delete_=True, **_base_.stld_hrnetv2_w18_backbone),
    neck=dict(_delete_=True, **_base_.stld_hrnetv2_w18_neck),
    head=dict(
        in_channels=_base_.stld_hrnetv2_w18_channels,
        deconv_out_channels=None, deconv_kernel_sizes=None,
        conv_out_channels=(_base_.stld_hrnetv2_w18_channels, ), conv_kernel_sizes=(1, )))
