# STLD-HM-R18, hand X-rays, 5 % of the 609 training radiographs labeled (30); the rest
# unlabeled. Split files: tools/misc/split_landmarks.py (see configs/stld/README.md).
_base_ = ['../_base_/stld-hm_res18_1xb16-60e_hand-512x512.py']
num_labeled = 30
train_dataloader = dict(dataset=dict(
    ann_file=f'annotations/semi/hand_xray_train.labeled@{num_labeled}.json'))
self_training = dict(
    unlabeled_ann_file=f'annotations/semi/hand_xray_train.unlabeled@{num_labeled}.json')
