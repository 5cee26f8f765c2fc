# 8 stacked hourglasses (Table 2). The "random augmentation" baseline of Table 2 (seed
# 001): the stage-1 pose network trained on for the same 200 epochs as the adversarial
# variants, with random scale/rotation only (the same batch-tensor augmentation as their
# random share). No G.
#   tools/dist_train.sh configs/adversarial_aug/mpii/adv-aug_hourglass52-8stack_stage3-random_8xb24-200e_mpii-256x256.py 8
_base_ = ['../_base_/adv-aug_hourglass52-8stack_mpii-256x256.py']

model = dict(stage='pose')
load_from = 'work_dirs/adv-aug_hourglass52-8stack_stage1-pose_8xb24-10e_mpii-256x256/epoch_10.pth'
train_cfg = dict(max_epochs=200, val_interval=10)
optim_wrapper = dict(
    _delete_=True,
    constructor='AdversarialOptimWrapperConstructor',
    pose=dict(optimizer=dict(type='RMSprop', lr=2.5e-4, alpha=0.99, eps=1e-8)))
param_scheduler = [dict(type='ReduceOnPlateauLR', monitor='PCK', rule='greater', factor=0.2,
                        patience=3, min_value=5e-5, by_epoch=True)]
