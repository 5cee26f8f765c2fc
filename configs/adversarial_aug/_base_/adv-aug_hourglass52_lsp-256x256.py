# Adversarial data augmentation (seed 001) with MMPose's single-stack hourglass on Leeds
# Sports Pose (14 joints, PCK@0.2). MMPose 1.3.2 has no LSP dataset class: the annotations
# are COCO-format files (one instance per person, 14 keypoints in LSP order) read by
# CocoDataset with the LSP metainfo of ./datasets/lsp.py. Expected layout:
#   data/lsp/annotations/lsp_train.json  (LSP + LSP-extended training persons, 11k)
#   data/lsp/annotations/lsp_test.json   (the 1k LSP test persons)
#   data/lsp/images/...
# Metric: PCK@0.2 normalised by the person box (mmpose's PCKAccuracy 'torso' item is wired to
# JHMDB's joints 4/5 and does not apply): not the torso-normalised PCK of the paper's Table 3.
# The paper's LSP numbers use 8 stacked hourglasses (set estimator.backbone.num_stacks=8 and
# estimator.head.num_stages=8).
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
val_evaluator = dict(_delete_=True, type='PCKAccuracy', thr=0.2, norm_item='bbox')
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='PCK', rule='greater'))
