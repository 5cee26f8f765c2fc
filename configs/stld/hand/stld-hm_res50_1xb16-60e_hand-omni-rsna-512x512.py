# STLD-HM with ResNet-50, hand X-rays, omni-supervised: the backbone of the paper's Hand
# results (Table IV: "Ours w/ HM", ResNet-50, 12K unlabeled); otherwise
# stld-hm_res18_1xb16-60e_hand-omni-rsna-512x512.py.
_base_ = ['./stld-hm_res18_1xb16-60e_hand-omni-rsna-512x512.py']
model = dict(
    backbone=dict(depth=50, init_cfg=dict(checkpoint='torchvision://resnet50')),
    head=dict(in_channels=2048))
