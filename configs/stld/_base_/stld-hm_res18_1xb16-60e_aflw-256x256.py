# STLD-HM-R18 on AFLW (seed 003, Jin et al.): the shared recipe of
# stld-hm_res18_1xb16-60e_face-256x256.py on MMPose's AFLW data. The per-ratio
# configs in configs/stld/ only name the split files.
_base_ = ['./stld-hm_res18_1xb16-60e_face-256x256.py']

dataset_type = 'AFLWDataset'
data_root = 'data/aflw/'
model = dict(head=dict(out_channels=19))
self_training = dict(
    unlabeled_ann_file='annotations/semi/face_landmarks_aflw_train.unlabeled@1000.json')
# ---- data: labeled split (made by tools/misc/split_landmarks.py); test = AFLW full (4386)
train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='annotations/semi/face_landmarks_aflw_train.labeled@1000.json'))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='annotations/face_landmarks_aflw_test.json'))
test_dataloader = val_dataloader
# AFLW: NME normalised by the face box size (mmpose's convention)
val_evaluator = dict(norm_mode='use_norm_item', norm_item='bbox_size')
test_evaluator = val_evaluator
