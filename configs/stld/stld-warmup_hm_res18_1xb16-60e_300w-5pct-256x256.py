# Baseline: linear warm-up (Fig. 9a) with the HM-R18 model, 300W 5 %: the naive baseline (a
# fresh model on labeled + ALL pseudo-labels each round, standard regression) whose
# pseudo-labeled loss weight grows linearly from 0.1 to 1 over the T = 4 rounds. The STLD head
# weighs the (tagged) pseudo-labeled samples by lambda_t through its main output.
_base_ = ['./stld-hm_res18_1xb16-60e_300w-5pct-256x256.py']
self_training = dict(mode='naive', curriculum=None, pseudo_loss_weights=[0.1, 0.4, 0.7, 1.0])
