# STLD-TF-R18 on WFLW (seed 003, Jin et al.): the shared recipe of
# stld-tf_res18_1xb16-360e_face-256x256.py on MMPose's WFLW data. The per-ratio
# configs in configs/stld/ only name the split files.
_base_ = ['./stld-tf_res18_1xb16-360e_face-256x256.py']

dataset_type = 'WFLWDataset'
data_root = 'data/wflw/'
model = dict(head=dict(num_keypoints=98))
# the top-level codec keeps the sigma of MMPose's own config for this dataset, under the
# shared regression codec (inert: nothing reads it after parsing)
codec = dict(sigma=2)
self_training = dict(
    unlabeled_ann_file='annotations/semi/face_landmarks_wflw_train.unlabeled@375.json')
# ---- data: labeled split (made by tools/misc/split_landmarks.py); test = WFLW test (2500)
train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='annotations/semi/face_landmarks_wflw_train.labeled@375.json'))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='annotations/face_landmarks_wflw_test.json'))
test_dataloader = val_dataloader
