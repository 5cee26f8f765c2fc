# STLD-HM-HRNet, AFLW, 10 % labeled (2000 images); the rest of the training set unlabeled.
# Split files: tools/misc/split_landmarks.py (see configs/stld/README.md).
_base_ = ['./_base_/stld-hm_hrnetv2-w18_1xb16-60e_aflw-256x256.py']
num_labeled = 2000
train_dataloader = dict(dataset=dict(
    ann_file=f'annotations/semi/face_landmarks_aflw_train.labeled@{num_labeled}.json'))
self_training = dict(
    unlabeled_ann_file=f'annotations/semi/face_landmarks_aflw_train.unlabeled@{num_labeled}.json')
