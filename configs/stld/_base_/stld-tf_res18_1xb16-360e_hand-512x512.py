# STLD-TF-R18 on the hand X-rays (seed 003, Sec. V-A.2): the recipe of
# stld-tf_res18_1xb16-360e_face-256x256.py (ResNet-18 C5 -> transformer decoder head, L1 for
# ground truth, Lp shrink loss p = [2.4, 1.6, 1.0] for pseudo-labels, 360 epochs per stage)
# on HandXrayDataset (37 landmarks) at 512 x 512: the decoder reads a 16 x 16 C5 map.
# Whole-image crops, no flip (./stld_hand_pipeline.py); evaluator: MRE in mm (50 mm wrist
# width, LandmarkMRE) and SDR@2/4/10 mm. The configs in configs/stld/hand/ name the files.
_base_ = ['./stld-tf_res18_1xb16-360e_face-256x256.py', './stld_hand_pipeline.py']

dataset_type = 'HandXrayDataset'
data_root = 'data/hand_xray/'
codec = dict(type='RegressionLabel', input_size=(512, 512))
model = dict(head=dict(num_keypoints=37, decoder=codec))
self_training = dict(
    unlabeled_ann_file='annotations/semi/hand_xray_train.unlabeled@61.json',
    # where the unlabeled images are: the atlas's own images for the semi-supervised splits
    # (the omni configs point this at the RSNA folder)
    unlabeled_dataset=dict(data_root=data_root, data_prefix=dict(img='images/')))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=_base_.stld_hand_crop_padding),
    *_base_.stld_hand_box_augment,
    dict(type='TopdownAffine', input_size=codec['input_size']),
    *_base_.stld_release_crop_augment,
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=_base_.stld_hand_crop_padding),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]
# ---- data: labeled split (tools/misc/split_landmarks.py); test = the 300 test radiographs
train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='annotations/semi/hand_xray_train.labeled@61.json',
                 data_prefix=dict(img='images/'), pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='annotations/hand_xray_test.json', data_prefix=dict(img='images/'),
                 pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='LandmarkMRE', reference_keypoints=(1, 5),
                     reference_mm=50., sdr_thresholds=(2., 4., 10.))
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='MRE', rule='less'))
