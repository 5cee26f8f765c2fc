# PoseDual + photometric RandAugment (N = 2, M = 20) on the hard view, ResNet-18, COCO 1K
# (seed 000, paper: 43.7 AP). The student branch is a RandAugment copy of the easy view
# (same geometry); the model adds the hard affine to it on the batch tensor.
_base_ = ['../_base_/posedual_semi-coco.py']
branches = ['sup', 'unsup_teacher', 'unsup_student']
labeled_dataset = _base_.labeled_dataset
labeled_dataset.pipeline[-1].branch_field = branches
unlabeled_dataset = _base_.unlabeled_dataset
unlabeled_dataset.pipeline = _base_.easy_view + [
    dict(type='PoseMultiBranch', branch_field=branches,
         unsup_teacher=[dict(type='PackSemiPoseInputs')],
         unsup_student=[dict(type='PhotometricRandAugment', num_ops=2, magnitude=20),
                        dict(type='PackSemiPoseInputs')])
]
train_dataloader = dict(dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]))
# the release's COCO-1K +JC / +RandAug files: 70 epochs [50, 60]
train_cfg = dict(max_epochs=70)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=70, milestones=[50, 60], gamma=0.1, by_epoch=True)
]
