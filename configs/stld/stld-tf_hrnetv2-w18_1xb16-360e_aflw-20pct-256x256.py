# STLD-TF-HRNet, AFLW, 20 % labeled (4000 images); the rest of the training set unlabeled.
# Split files: tools/misc/split_landmarks.py (see configs/stld/README.md).
_base_ = ['./_base_/stld-tf_hrnetv2-w18_1xb16-360e_aflw-256x256.py']
num_labeled = 4000
train_dataloader = dict(dataset=dict(
    ann_file=f'annotations/semi/face_landmarks_aflw_train.labeled@{num_labeled}.json'))
self_training = dict(
    unlabeled_ann_file=f'annotations/semi/face_landmarks_aflw_train.unlabeled@{num_labeled}.json')
