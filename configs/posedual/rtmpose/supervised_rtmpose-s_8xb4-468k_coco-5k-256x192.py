# Supervised baseline of ./posedual_rtmpose-s_8xb8-100e_coco-5k-256x192.py: RTMPose-s on the COCO
# 5K labeled instances only, 32 labeled crops per step (8 GPUs x 4), the same augmentation
# and the same optimizer steps as its PoseDual row (100 epochs x 4687 = 468700), with its
# warm-up and its cosine over the second half of the steps.
_base_ = ['./posedual_rtmpose-s_8xb8-100e_coco-5k-256x192.py']
model = dict(_delete_=True, **_base_.estimator)
labeled_dataset = _base_.labeled_dataset
labeled_dataset.pipeline[-1] = dict(type='PackPoseInputs')
train_dataloader = dict(
    _delete_=True, batch_size=4, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True), dataset=labeled_dataset)
max_iters = 468700
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=5000)
param_scheduler = [
    dict(type='LinearLR', start_factor=1.0e-5, by_epoch=False, begin=0, end=1000),
    dict(type='CosineAnnealingLR', eta_min=_base_.base_lr * 0.05, begin=max_iters // 2,
         end=max_iters, by_epoch=False)
]
auto_scale_lr = dict(base_batch_size=32)  # 8 GPUs x 4
val_cfg = dict(_delete_=True, type='ValLoop')
test_cfg = dict(_delete_=True, type='TestLoop')
default_hooks = dict(checkpoint=dict(save_best='coco/AP', by_epoch=False, interval=5000))
log_processor = dict(by_epoch=False)
custom_hooks = [
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0002, update_buffers=True,
         priority=49),
    dict(type='KeypointCountCheckHook')
]
