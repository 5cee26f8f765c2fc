# 8 stacked hourglasses (Table 3). The "random augmentation" baseline (seed 001, Table 3
# for LSP): the stage-1 pose network trained on for the same 200 epochs as the adversarial
# variants, with random scale/rotation only (the same batch-tensor augmentation as their
# random share). No G.
#   tools/dist_train.sh configs/adversarial_aug/lsp/adv-aug_hourglass52-8stack_stage3-random_8xb24-200e_lsp-256x256.py 8
_base_ = ['../_base_/adv-aug_hourglass52-8stack_lsp-256x256.py']

model = dict(stage='pose')
load_from = 'work_dirs/adv-aug_hourglass52-8stack_stage1-pose_8xb24-10e_lsp-256x256/epoch_10.pth'
train_cfg = dict(max_epochs=200, val_interval=10)
optim_wrapper = dict(
    _delete_=True,
    constructor='AdversarialOptimWrapperConstructor',
    pose=dict(optimizer=dict(type='RMSprop', lr=2.5e-4, alpha=0.99, eps=1e-8)))
param_scheduler = [dict(type='ReduceOnPlateauLR', monitor='tPCK', rule='greater', factor=0.2,
                        patience=3, min_value=5e-5, by_epoch=True)]
