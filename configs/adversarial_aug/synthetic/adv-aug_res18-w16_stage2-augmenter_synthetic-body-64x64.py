# Stage 2 (seed 001) on the synthetic bodies: G pre-trained against the frozen stage-1 D.
_base_ = ['../_base_/adv-aug_res18-w16_synthetic-body-64x64.py']

model = dict(stage='augmenter')
load_from = 'work_dirs/adv-aug_res18-w16_stage1-pose_synthetic-body-64x64/epoch_2.pth'
train_cfg = dict(max_epochs=1, val_interval=10**6)
optim_wrapper = dict(
    _delete_=True, constructor='AdversarialOptimWrapperConstructor',
    augmenter=dict(optimizer=dict(type='RMSprop', lr=1e-3, alpha=0.99, eps=1e-8)))
