# STLD-HM-R18 on the hand X-rays (seed 003, Sec. V-A.2): the recipe of
# stld-hm_res18_1xb16-60e_face-256x256.py (model, optimiser, schedule, self-training runner)
# on HandXrayDataset (Payer et al.'s 37 landmarks; 609 training and 300 test radiographs)
# at the paper's 512 x 512 input. Heatmaps are 128 x 128 (stride 4, as at 256); sigma_std
# 1.5 and the curriculum [2.2, 1.8, 1.5] stay the 300W ones (the paper applies the 300W
# curriculum to Hand, Fig. 13c). Whole-image crops, no flip (./stld_hand_pipeline.py).
# Evaluator: MRE in mm with Payer et al.'s 50 mm wrist width (LandmarkMRE), plus SDR@2/4/10
# mm. The configs in configs/stld/hand/ name the split files; files: configs/stld/README.md.
_base_ = ['./stld-hm_res18_1xb16-60e_face-256x256.py', './stld_hand_pipeline.py']

dataset_type = 'HandXrayDataset'
data_root = 'data/hand_xray/'
codec = dict(type='MSRAHeatmap', input_size=(512, 512), heatmap_size=(128, 128), sigma=1.5)
model = dict(head=dict(out_channels=37, decoder=codec))
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
