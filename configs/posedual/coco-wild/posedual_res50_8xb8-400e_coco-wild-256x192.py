# PoseDual, ResNet-50: all of COCO train2017 labeled + COCO unlabeled2017 ("WILD") with person
# detector boxes (seed 000, paper: 70.9 -> 73.9 AP on val2017). Write the detector results
# ([{image_id, bbox, score, category_id}], COCO results format) to the bbox_file below.
_base_ = ['../_base_/posedual_semi-coco.py']
labeled_dataset = _base_.labeled_dataset
labeled_dataset.ann_file = 'annotations/person_keypoints_train2017.json'
unlabeled_dataset = _base_.unlabeled_dataset
unlabeled_dataset.ann_file = 'annotations/image_info_unlabeled2017.json'
unlabeled_dataset.bbox_file = 'person_detection_results/COCO_unlabeled2017_detections_person.json'
unlabeled_dataset.bbox_score_thr = 0.5
unlabeled_dataset.min_num_keypoints = 0  # detector boxes: no keypoints to count
unlabeled_dataset.data_prefix = dict(img='unlabeled2017/')
train_dataloader = dict(dataset=dict(datasets=[labeled_dataset, unlabeled_dataset]))
model = dict(estimator=dict(
    backbone=dict(depth=50, init_cfg=dict(type='Pretrained',
                                          checkpoint='torchvision://resnet50')),
    head=dict(in_channels=2048)))
train_cfg = dict(max_epochs=400)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=400, milestones=[300, 350], gamma=0.1,
         by_epoch=True)
]
