# STLD-TF-R18 on 300W (seed 003, Jin et al.): the shared recipe of
# stld-tf_res18_1xb16-360e_face-256x256.py on MMPose's 300W data. The per-ratio
# configs in configs/stld/ only name the split files.
_base_ = ['./stld-tf_res18_1xb16-360e_face-256x256.py']

dataset_type = 'Face300WDataset'
data_root = 'data/300w/'
model = dict(head=dict(num_keypoints=68))
self_training = dict(
    unlabeled_ann_file='annotations/semi/face_landmarks_300w_train.unlabeled@157.json')
# ---- data: labeled split (made by tools/misc/split_landmarks.py); test = 300W full (689)
train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='annotations/semi/face_landmarks_300w_train.labeled@157.json'))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='annotations/face_landmarks_300w_valid.json'))
test_dataloader = val_dataloader
