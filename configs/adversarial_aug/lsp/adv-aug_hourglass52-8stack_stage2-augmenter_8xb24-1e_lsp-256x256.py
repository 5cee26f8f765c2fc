# 8 stacked hourglasses (Table 3). Stage 2 of 3 (seed 001): pre-train G against the
# frozen stage-1 pose network: ASR targets from the m x n bin sweep through D (Eq. 3), AHO
# targets from joint voting (Eq. 4); RMSprop 2.5e-4. One epoch: every batch costs m x n = 63
# forward passes of D.
#   tools/dist_train.sh configs/adversarial_aug/lsp/adv-aug_hourglass52-8stack_stage2-augmenter_8xb24-1e_lsp-256x256.py 8
_base_ = ['../_base_/adv-aug_hourglass52-8stack_lsp-256x256.py']

model = dict(stage='augmenter', sweep_chunk=8)
load_from = 'work_dirs/adv-aug_hourglass52-8stack_stage1-pose_8xb24-10e_lsp-256x256/epoch_10.pth'
train_cfg = dict(max_epochs=1, val_interval=10**6)  # D is frozen: nothing to validate
optim_wrapper = dict(
    _delete_=True,
    constructor='AdversarialOptimWrapperConstructor',
    augmenter=dict(optimizer=dict(type='RMSprop', lr=2.5e-4, alpha=0.99, eps=1e-8)))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True)]
default_hooks = dict(checkpoint=dict(save_best=None, interval=1))
custom_hooks = [dict(type='AdversarialDistributionHook', interval=100, max_samples=8)]
