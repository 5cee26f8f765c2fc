# 8 stacked hourglasses (Table 3). Stage 3 of 3 (seed 001), "+ASR+AHO": joint training
# of D and G. Every mini-batch is split into random / ASR / AHO thirds (Alg. 1); each
# adversarial image is compared with a random augmentation of itself and G learns the
# reward/penalty target (Eq. 5, 6). D: RMSprop 2.5e-4, decayed to 5e-5 when PCK@0.2
# plateaus; G: RMSprop 5e-5.
#   tools/dist_train.sh configs/adversarial_aug/lsp/adv-aug_hourglass52-8stack_stage3-asr-aho_8xb24-200e_lsp-256x256.py 8
_base_ = ['../_base_/adv-aug_hourglass52-8stack_lsp-256x256.py']

model = dict(stage='joint', split=(1, 1, 1))
load_from = 'work_dirs/adv-aug_hourglass52-8stack_stage2-augmenter_8xb24-1e_lsp-256x256/epoch_1.pth'
train_cfg = dict(max_epochs=200, val_interval=10)
param_scheduler = dict(
    _delete_=True,
    pose=[dict(type='ReduceOnPlateauLR', monitor='tPCK', rule='greater', factor=0.2,
               patience=3, min_value=5e-5, by_epoch=True)],
    augmenter=[dict(type='ConstantLR', factor=1.0, by_epoch=True)])
