# STLD-TF-R18, 300W omni-supervised (seed 003, Sec. V-B.3, Table III): the whole 300W
# training set labeled (3148) + 70,000 CelebA images (a nested random subset)
# unlabeled, one face box per image from a face detector's results
# (tools/dataset_converters/image_folder_to_coco.py, see configs/stld/README.md).
_base_ = ['../_base_/stld-tf_res18_1xb16-360e_300w-256x256.py']
train_dataloader = dict(dataset=dict(ann_file='annotations/face_landmarks_300w_train.json'))
self_training = dict(
    unlabeled_ann_file='annotations/celeba_faces.unlabeled@70000.json',
    unlabeled_dataset=dict(data_root='data/celeba/', data_prefix=dict(img='img_celeba/')))
