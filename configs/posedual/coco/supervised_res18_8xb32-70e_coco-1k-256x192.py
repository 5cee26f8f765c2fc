# Supervised baseline: ResNet-18 SimpleBaseline on the COCO 1K labeled instances only
# (seed 000, paper: 31.5 AP).
_base_ = ['../_base_/posedual_semi-coco.py']
estimator = _base_.estimator
model = dict(_delete_=True, **estimator)
labeled_dataset = _base_.labeled_dataset
labeled_dataset.pipeline[-1] = dict(type='PackPoseInputs')
train_dataloader = dict(
    _delete_=True, batch_size=32, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True), dataset=labeled_dataset)
val_cfg = dict(_delete_=True, type='ValLoop')
test_cfg = dict(_delete_=True, type='TestLoop')
default_hooks = dict(checkpoint=dict(save_best='coco/AP'))
custom_hooks = [dict(type='KeypointCountCheckHook')]
