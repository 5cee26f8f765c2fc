# Ablation: shrink regression only (Fig. 9a) with the HM-R18 model, 300W 5 %: no pseudo
# pretraining; rounds 2..T train a fresh (ImageNet) model on labeled + pseudo-labels with
# STLD's shrink curriculum and lambda (round 1, supervised training again without
# pretraining, is not run: round 2 uses round 0's pseudo-labels).
_base_ = ['./stld-hm_res18_1xb16-60e_300w-5pct-256x256.py']
self_training = dict(mode='shrink_only')
