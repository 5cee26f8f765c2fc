# STLD-TF-R18 for face landmarks (seed 003), shared by the per-dataset bases
# (stld-tf_res18_1xb16-360e_{300w,aflw,wflw}-256x256.py): MMPose's face config (data,
# pipelines) with the paper's coordinate model: ResNet-18 C5 -> transformer decoder head
# (STLDTransformerHead) with main + shrink outputs, L1 for ground truth and the Lp shrink loss
# for pseudo-labels. MMPose's 300W config supplies the common runtime/data parts; each
# per-dataset base sets its dataset, keypoint count (model.head.num_keypoints), split files
# and, where it differs, the NME normalisation.
_base_ = [
    'mmpose::face_2d_keypoint/topdown_heatmap/300w/td-hm_hrnetv2-w18_8xb64-60e_300w-256x256.py',
    './stld_release_pipeline.py'
]
custom_imports = dict(imports=['mmssl'], allow_failed_imports=False)

runner_type = 'SelfTrainingRunner'
self_training = dict(
    mode='stld',
    num_rounds=4,
    curriculum=[2.4, 1.6, 1.0],  # p_t of the Lp shrink loss, rounds 2..T (L1 at T)
    pseudo_loss_weights=None,
    pretrain_speedup=5,
    labeled_min_size=100,
)

codec = dict(type='RegressionLabel', input_size=(256, 256))
model = dict(
    backbone=dict(
        _delete_=True, type='ResNet', depth=18, out_indices=(3, ),
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    neck=None,
    head=dict(
        _delete_=True, type='STLDTransformerHead', in_channels=512,
        embed_dims=256, num_layers=4, num_heads=8, ffn_channels=2048, dropout=0.1,
        mlp_channels=512, loss=dict(type='LpShrinkLoss', p=1.0), decoder=codec),
    # the paper's protocol: no flip test (a flipped evaluation: --cfg-options
    # model.test_cfg.flip_test=True)
    test_cfg=dict(_delete_=True, flip_test=False, shift_coords=True))

# paper: Adam 1e-4, batch 16, 360 epochs, x0.1 at 240 and 320
train_cfg = dict(max_epochs=360, val_interval=40)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-4))
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=360, milestones=[240, 320], gamma=0.1,
         by_epoch=True)
]
auto_scale_lr = dict(base_batch_size=16)
default_hooks = dict(checkpoint=dict(save_best=None, interval=40, max_keep_ckpts=1))

# ---- data: the release's augmentation and crop (./stld_release_pipeline.py)
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=_base_.stld_release_crop_padding),
    *_base_.stld_release_box_augment,
    dict(type='TopdownAffine', input_size=codec['input_size']),
    *_base_.stld_release_crop_augment,
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=_base_.stld_release_crop_padding),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(batch_size=16, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='FaceLandmarkMetric', norm_mode='keypoint_distance')
test_evaluator = val_evaluator
