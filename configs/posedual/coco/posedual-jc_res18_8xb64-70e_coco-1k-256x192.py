# PoseDual + Joint Cutout (m = 5), ResNet-18, COCO 1K (seed 000, paper: 44.6 AP).
_base_ = ['../_base_/posedual_semi-coco.py']
model = dict(joint_cutout=dict(_delete_=True, num_joints=5, jitter=10., half_size_range=(10., 20.)))
