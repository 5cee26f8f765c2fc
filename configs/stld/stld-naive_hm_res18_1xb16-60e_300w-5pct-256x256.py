# Baseline: naive selection-free self-training (Sec. III-C) with the HM-R18 model, 300W 5 %:
# every round trains a fresh model on labeled + ALL pseudo-labels with standard regression.
_base_ = ['./stld-hm_res18_1xb16-60e_300w-5pct-256x256.py']
self_training = dict(mode='naive', curriculum=None)
model = dict(head=dict(type='HeatmapHead'))
