# PoseCons (single network, its own teacher) with the RTMPose-t-sized SimCC model on the
# synthetic bodies, same data and schedule as the PoseDual config it inherits, with teacher
# and student views drawn from the SAME distribution (teacher_view='same'): the collapsing
# setup of seed 000 (its Table 9).
_base_ = ['./posedual_rtmpose-t_synthetic-body-first100-128x96.py']
model = dict(type='PoseCons', teacher_view='same', predict_on='net1')
default_hooks = dict(checkpoint=dict(save_best='net1/coco/AP'))
