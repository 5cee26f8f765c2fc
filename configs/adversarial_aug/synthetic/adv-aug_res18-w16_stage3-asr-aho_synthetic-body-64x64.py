# Stage 3 (seed 001) on the synthetic bodies: joint training, random / ASR / AHO thirds.
_base_ = ['../_base_/adv-aug_res18-w16_synthetic-body-64x64.py']

model = dict(stage='joint', split=(1, 1, 1))
load_from = 'work_dirs/adv-aug_res18-w16_stage2-augmenter_synthetic-body-64x64/epoch_1.pth'
train_cfg = dict(max_epochs=2, val_interval=2)
