# STLD-TF with ResNet-50, hand X-rays, omni-supervised: the backbone of the paper's Hand
# results (Table IV: "Ours w/ TF", ResNet-50, 12K unlabeled); the decoder reads the
# 2048-channel C5 map (16 x 16 at 512 px). Otherwise
# stld-tf_res18_1xb16-360e_hand-omni-rsna-512x512.py.
_base_ = ['./stld-tf_res18_1xb16-360e_hand-omni-rsna-512x512.py']
model = dict(
    backbone=dict(depth=50, init_cfg=dict(checkpoint='torchvision://resnet50')),
    head=dict(in_channels=2048))
