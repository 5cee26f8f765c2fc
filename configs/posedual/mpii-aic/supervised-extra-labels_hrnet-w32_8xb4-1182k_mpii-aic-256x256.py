# Supervised with extra labels (seed 000 Table 10, "Extra Labels" row, hrnet-w32: 91.7 PCKh@0.5 on
# MPII val vs 89.5 on MPII alone): MPII train + AI Challenger train *with* AIC's keypoints
# (mapped to MPII's 16 joints, see extra_labels_dataset in supervised_res101_8xb4-1182k_mpii),
# the upper reference of the PoseDual row that uses AIC unlabeled. Same estimator,
# augmentation, 32 labeled crops per step and optimizer steps as supervised_hrnet-w32_8xb4-1182k_mpii.
_base_ = ['./supervised_hrnet-w32_8xb4-1182k_mpii-256x256.py']
train_dataloader = dict(dataset=dict(_delete_=True, **_base_.extra_labels_dataset))
