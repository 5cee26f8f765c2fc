# The random baseline (seed 001) on the synthetic bodies: the stage-1 D trained on for as
# many epochs as the joint stage, with random scale/rotation only.
_base_ = ['../_base_/adv-aug_res18-w16_synthetic-body-64x64.py']

model = dict(stage='pose')
load_from = 'work_dirs/adv-aug_res18-w16_stage1-pose_synthetic-body-64x64/epoch_2.pth'
train_cfg = dict(max_epochs=2, val_interval=2)
optim_wrapper = dict(_delete_=True, constructor='AdversarialOptimWrapperConstructor',
                     pose=dict(optimizer=dict(type='RMSprop', lr=1e-3, alpha=0.99, eps=1e-8)))
