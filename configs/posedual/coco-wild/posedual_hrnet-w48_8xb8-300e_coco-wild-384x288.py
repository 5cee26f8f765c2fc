# PoseDual, HRNet-W48 at 384x288 (heatmap 96x72, sigma 3): COCO train2017 labeled + COCO
# unlabeled2017 with person detector boxes (seed 000, paper: 77.2 -> 79.2 AP on val2017).
_base_ = ['./posedual_res50_8xb8-400e_coco-wild-256x192.py']
codec = dict(type='MSRAHeatmap', input_size=(288, 384), heatmap_size=(72, 96), sigma=3)
labeled_dataset = _base_.labeled_dataset
labeled_dataset.pipeline[4].input_size = codec['input_size']  # TopdownAffine
labeled_dataset.pipeline[5].encoder = codec  # GenerateTarget
unlabeled_dataset = _base_.unlabeled_dataset
unlabeled_dataset.pipeline[4].input_size = codec['input_size']  # TopdownAffineWithMatrix
train_dataloader = dict(dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]))
val_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]))
test_dataloader = val_dataloader
model = dict(estimator=dict(
    backbone=dict(
        _delete_=True,
        type='HRNet',
        in_channels=3,
        extra=dict(
            stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(4, ),
                        num_channels=(64, )),
            stage2=dict(num_modules=1, num_branches=2, block='BASIC', num_blocks=(4, 4),
                        num_channels=(48, 96)),
            stage3=dict(num_modules=4, num_branches=3, block='BASIC', num_blocks=(4, 4, 4),
                        num_channels=(48, 96, 192)),
            stage4=dict(num_modules=3, num_branches=4, block='BASIC',
                        num_blocks=(4, 4, 4, 4), num_channels=(48, 96, 192, 384))),
        init_cfg=dict(type='Pretrained', checkpoint='https://download.openmmlab.com/mmpose/'
                      'pretrain_models/hrnet_w48-8ef0771d.pth')),
    head=dict(in_channels=48, deconv_out_channels=None, decoder=codec)))
train_cfg = dict(max_epochs=300)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=300, milestones=[220, 260], gamma=0.1,
         by_epoch=True)
]
