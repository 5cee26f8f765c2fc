# Quickstart stage 1 (tools/quickstart.sh): the supervised start of the semi-supervised
# quickstart. The supervised model of the synthetic PoseDual study (MMPose's COCO
# SimpleBaseline, 32-channel ResNet-18 at 128x96, batches of 16 of the first 100 labeled
# persons) on a schedule that fits the quickstart's CPU budget, with a fixed seed. The
# quickstart trains it twice (seed 0, and seed 1 via `--cfg-options randomness.seed=1`) and
# starts the two PoseDual networks from the two models
# (posedual_res18_synthetic-body-first100-128x96.py).
_base_ = ['../posedual/synthetic/supervised_res18-w32_synthetic-body-first100-128x96.py']

num_iters = 500
train_cfg = dict(max_iters=num_iters, val_interval=num_iters)
param_scheduler = [
    dict(type='LinearLR', begin=0, end=50, start_factor=0.01, by_epoch=False),
    dict(type='MultiStepLR', begin=0, end=num_iters, milestones=[400], gamma=0.1,
         by_epoch=False)
]
default_hooks = dict(checkpoint=dict(interval=num_iters))
randomness = dict(seed=0, deterministic=True)
