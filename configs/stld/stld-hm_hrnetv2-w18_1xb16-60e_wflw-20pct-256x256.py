# STLD-HM-HRNet, WFLW, 20 % labeled (1500 images); the rest of the training set unlabeled.
# Split files: tools/misc/split_landmarks.py (see configs/stld/README.md).
_base_ = ['./_base_/stld-hm_hrnetv2-w18_1xb16-60e_wflw-256x256.py']
num_labeled = 1500
train_dataloader = dict(dataset=dict(
    ann_file=f'annotations/semi/face_landmarks_wflw_train.labeled@{num_labeled}.json'))
self_training = dict(
    unlabeled_ann_file=f'annotations/semi/face_landmarks_wflw_train.unlabeled@{num_labeled}.json')
