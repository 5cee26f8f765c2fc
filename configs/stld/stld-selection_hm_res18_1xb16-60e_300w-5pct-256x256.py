# Baseline: selection-based self-training (Sec. III-B) with the HM-R18 model, 300W 5 %: every
# round trains a fresh model on labeled + the pseudo-labels whose mean heatmap maximum reaches
# tau (0.4, the threshold of the paper's Fig. 2 analysis; Fig. 8 tunes it per method).
_base_ = ['./stld-hm_res18_1xb16-60e_300w-5pct-256x256.py']
self_training = dict(mode='selection', curriculum=None, score_thr=0.4)
model = dict(head=dict(type='HeatmapHead'))
