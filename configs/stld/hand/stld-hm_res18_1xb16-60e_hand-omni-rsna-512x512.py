# STLD-HM-R18, hand X-rays, omni-supervised (seed 003, Sec. V-B.3): all 609 training
# radiographs labeled + the RSNA bone-age training images (12,611, the paper's "12K")
# unlabeled, one whole-image box each (tools/dataset_converters/image_folder_to_coco.py,
# see configs/stld/README.md).
_base_ = ['../_base_/stld-hm_res18_1xb16-60e_hand-512x512.py']
train_dataloader = dict(dataset=dict(ann_file='annotations/hand_xray_train.json'))
self_training = dict(
    unlabeled_ann_file='annotations/rsna_boneage_train.unlabeled@all.json',
    unlabeled_dataset=dict(data_root='data/rsna_boneage/',
                           data_prefix=dict(img='boneage-training-dataset/')))
