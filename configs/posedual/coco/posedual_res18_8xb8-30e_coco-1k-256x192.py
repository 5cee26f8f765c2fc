# PoseDual, ResNet-18, COCO 1K labeled + COCO TRAIN unlabeled (seed 000, paper: 41.5 AP).
_base_ = ['../_base_/posedual_semi-coco.py']
