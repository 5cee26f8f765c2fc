# Ablation: pseudo pretraining only (Fig. 9b) with the TF-R18 model, 300W 5 %: every round
# pseudo-pretrains as STLD does (round 1 from ImageNet, later rounds from the previous pretrain
# for 1/5 of the epochs) and then trains on the labeled set only; no shrink regression, so the
# pseudo-labels never meet the ground truth in one stage.
_base_ = ['./stld-tf_res18_1xb16-360e_300w-5pct-256x256.py']
self_training = dict(mode='pseudo_pretrain_only', curriculum=None)
