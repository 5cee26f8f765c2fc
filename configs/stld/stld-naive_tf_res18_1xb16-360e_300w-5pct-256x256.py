# Baseline: naive selection-free self-training (Sec. III-C) with the TF-R18 model, 300W 5 %
# (Fig. 9b): every round trains a fresh model on labeled + ALL pseudo-labels with standard
# regression (L1). STLDTransformerHead stays: its pseudo-labeled samples are not tagged in
# this mode, so it trains them like ground truth through its main output.
_base_ = ['./stld-tf_res18_1xb16-360e_300w-5pct-256x256.py']
self_training = dict(mode='naive', curriculum=None)
