# 8 stacked hourglasses (Table 3). Stage 1 of 3 (seed 001): pre-train the pose network D
# with random scale/rotation (made on the batch tensor) for a few epochs (release: 10),
# RMSprop 2.5e-4. G is built but frozen.
#   tools/dist_train.sh configs/adversarial_aug/lsp/adv-aug_hourglass52-8stack_stage1-pose_8xb24-10e_lsp-256x256.py 8
_base_ = ['../_base_/adv-aug_hourglass52-8stack_lsp-256x256.py']

model = dict(stage='pose')
train_cfg = dict(max_epochs=10, val_interval=5)
optim_wrapper = dict(
    _delete_=True,
    constructor='AdversarialOptimWrapperConstructor',
    pose=dict(optimizer=dict(type='RMSprop', lr=2.5e-4, alpha=0.99, eps=1e-8)))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=500, start_factor=0.001, by_epoch=False),  # warm-up
]
