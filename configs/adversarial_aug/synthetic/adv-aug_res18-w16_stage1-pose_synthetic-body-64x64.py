# Stage 1 (seed 001) on the synthetic bodies: D with random scale/rotation on the batch.
_base_ = ['../_base_/adv-aug_res18-w16_synthetic-body-64x64.py']

model = dict(stage='pose')
train_cfg = dict(max_epochs=2, val_interval=2)
optim_wrapper = dict(_delete_=True, constructor='AdversarialOptimWrapperConstructor',
                     pose=dict(optimizer=dict(type='RMSprop', lr=1e-3, alpha=0.99, eps=1e-8)))
