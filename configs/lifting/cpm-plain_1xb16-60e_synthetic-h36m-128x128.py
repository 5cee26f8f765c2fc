# The plain-CPM baseline of configs/lifting/cpm-lift_1xb16-60e_synthetic-h36m-128x128.py: the
# same data, schedule, network and evaluation, with the fusion turned off -- every stage's
# belief maps feed the next stage unchanged, i.e. mmpose's CPM (fusion weights (0, 1) fixed).
# The final 2D prediction is still lifted (MPJPE / P-MPJPE), and at validation every stage's
# maps are lifted without gradient (MPJPE_s1 ...), so the two configs compare stage by stage.
_base_ = ['./cpm-lift_1xb16-60e_synthetic-h36m-128x128.py']

model = dict(backbone=dict(fusion=dict(enabled=False)))
