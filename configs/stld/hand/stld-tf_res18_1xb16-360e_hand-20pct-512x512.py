# STLD-TF-R18, hand X-rays, 20 % of the 609 training radiographs labeled (122); the rest
# unlabeled. Split files: tools/misc/split_landmarks.py (see configs/stld/README.md).
_base_ = ['../_base_/stld-tf_res18_1xb16-360e_hand-512x512.py']
num_labeled = 122
train_dataloader = dict(dataset=dict(
    ann_file=f'annotations/semi/hand_xray_train.labeled@{num_labeled}.json'))
self_training = dict(
    unlabeled_ann_file=f'annotations/semi/hand_xray_train.unlabeled@{num_labeled}.json')
