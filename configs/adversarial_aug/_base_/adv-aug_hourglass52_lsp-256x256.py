# Adversarial data augmentation (seed 001) with MMPose's single-stack hourglass on Leeds
# Sports Pose (14 joints, PCK@0.2). MMPose 1.3.2 has no LSP dataset class: the annotations
# are COCO-format files (one instance per person, 14 keypoints in the order of
# ./datasets/lsp.py) read by CocoDataset with that metainfo, written from the official
# joints.mat files by tools/misc/lsp_joints_mat_to_coco.py. Expected layout:
#   data/lsp/annotations/lsp_train.json  (LSP + LSP-extended training persons, 11k)
#   data/lsp/annotations/lsp_test.json   (the 1k LSP test persons)
#   data/lsp/images/...
# Metric: the paper's PCK@0.2 normalised by the torso (left shoulder to right hip: mmpose's
# PCKAccuracy(norm_item='torso'), key 'tPCK', measures joints 4 and 5, which the metainfo's
# order makes those two). The paper's LSP numbers use 8 stacked hourglasses: see
# adv-aug_hourglass52-8stack_lsp-256x256.py.
_base_ = ['./adv-aug_hourglass52_mpii-256x256.py']

lsp_metainfo = dict(from_file='{{fileDirname}}/datasets/lsp.py')
model = dict(estimator=dict(head=dict(out_channels=14)))
data_root = 'data/lsp/'
codec = _base_.codec
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CocoDataset',
        data_root=data_root,
        data_mode='topdown',
        metainfo=lsp_metainfo,
        ann_file='annotations/lsp_train.json',
        data_prefix=dict(img='images/'),
        pipeline=_base_.train_pipeline))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CocoDataset',
        data_root=data_root,
        data_mode='topdown',
        metainfo=lsp_metainfo,
        ann_file='annotations/lsp_test.json',
        bbox_file=None,
        data_prefix=dict(img='images/'),
        test_mode=True,
        pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='PCKAccuracy', thr=0.2, norm_item='torso')
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='tPCK', rule='greater'))
