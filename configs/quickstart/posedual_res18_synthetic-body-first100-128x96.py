# Quickstart stage 2 (tools/quickstart.sh): PoseDual on the synthetic bodies (the first 100
# persons labeled, every box of the train split unlabeled; 16 + 16 per batch), starting from
# two supervised models instead of random weights: `load_from` a checkpoint whose net1 / net2
# are the seed-0 / seed-1 models of td-hm_res18_synthetic-body-first100-128x96.py, written by
#   python tools/misc/pose_dual_init.py SEED0.pth SEED1.pth \
#       --out work_dirs/quickstart/supervised_pair.pth
# (one checkpoint for both would keep the networks identical: tools/misc/pose_dual_init.py).
# Both networks are trained on labels already, so the networks teach each other from the
# first iteration (unsup_start_iter=0). Fixed seed: the quickstart prints the same numbers
# on every run.
_base_ = ['../posedual/synthetic/posedual_res18-w32_synthetic-body-first100-128x96.py']

num_iters = 250
train_cfg = dict(max_iters=num_iters, val_interval=num_iters)
param_scheduler = [
    dict(type='LinearLR', begin=0, end=50, start_factor=0.01, by_epoch=False),
    dict(type='MultiStepLR', begin=0, end=num_iters, milestones=[200], gamma=0.1,
         by_epoch=False)
]
model = dict(unsup_start_iter=0)
default_hooks = dict(checkpoint=dict(interval=num_iters))
load_from = 'work_dirs/quickstart/supervised_pair.pth'
randomness = dict(seed=0, deterministic=True)
