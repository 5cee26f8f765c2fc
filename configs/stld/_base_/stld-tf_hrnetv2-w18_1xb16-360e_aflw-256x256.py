# STLD-TF-HRNet on AFLW (seed 003): the STLD-TF-R18 recipe on AFLW
# (./stld-tf_res18_1xb16-360e_aflw-256x256.py) with the HRNetV2-W18 of ./stld_hrnetv2_w18.py:
# the transformer decoder (STLDTransformerHead) reads the concatenated 270-channel stride-4
# map (64x64 tokens for a 256x256 crop), projected 1x1 to d = 256, as the release's TF_hrnet
# does (input_proj = Conv2d(270, 256)). The per-ratio configs in configs/stld/ only name the
# split files.
_base_ = ['./stld-tf_res18_1xb16-360e_aflw-256x256.py', './stld_hrnetv2_w18.py']

# the release oversamples the labeled set to os_num = 1000 in its HRNet files
self_training = dict(labeled_min_size=1000)

model = dict(
    backbone=dict(_delete_=True, **_base_.stld_hrnetv2_w18_backbone),
    neck=dict(_delete_=True, **_base_.stld_hrnetv2_w18_neck),
    head=dict(in_channels=_base_.stld_hrnetv2_w18_channels))
