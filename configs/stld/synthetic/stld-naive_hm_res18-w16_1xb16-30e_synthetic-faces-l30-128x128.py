# Naive selection-free self-training baseline on the synthetic faces: every round trains a
# fresh model on labeled + ALL pseudo-labels with standard regression (same data, model and
# schedule as the STLD config).
_base_ = ['./stld-hm_res18-w16_1xb16-30e_synthetic-faces-l30-128x128.py']
self_training = dict(mode='naive', curriculum=None)
model = dict(head=dict(type='HeatmapHead'))
