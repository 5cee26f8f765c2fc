# Supervised baseline of ./posedual_res50-rle_8xb8-30e_coco-1k-256x192.py: the RLE model on the
# COCO 1K labeled instances only, 32 labeled crops per step (8 GPUs x 4, SyncBN), the same
# augmentation and optimizer steps as its PoseDual row (30 epochs x 4687 = 140610), lr steps
# at 20/30 and 25/30.
_base_ = ['./posedual_res50-rle_8xb8-30e_coco-1k-256x192.py']
model = dict(_delete_=True, **_base_.estimator)
labeled_dataset = _base_.labeled_dataset
labeled_dataset.pipeline[-1] = dict(type='PackPoseInputs')
train_dataloader = dict(
    _delete_=True, batch_size=4, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True), dataset=labeled_dataset)
max_iters = 140610
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=5000)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=max_iters, by_epoch=False, gamma=0.1,
         milestones=[max_iters * 20 // 30, max_iters * 25 // 30])
]
auto_scale_lr = dict(base_batch_size=32)  # 8 GPUs x 4
val_cfg = dict(_delete_=True, type='ValLoop')
test_cfg = dict(_delete_=True, type='TestLoop')
default_hooks = dict(checkpoint=dict(save_best='coco/AP', by_epoch=False, interval=5000))
log_processor = dict(by_epoch=False)
custom_hooks = [dict(type='KeypointCountCheckHook')]
