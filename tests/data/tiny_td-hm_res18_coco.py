# A tiny, deterministic SimpleBaseline on the COCO fixture for engine tests (CPU, seconds).
# data_root is set by tests (the fixtures folder); nothing random in the pipeline so that a
# resumed run can be compared with an uninterrupted one exactly.
_base_ = ['mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_res50_8xb64-210e_coco-256x192.py']
custom_imports = dict(imports=['mmssl'], allow_failed_imports=False)

# ResNet-18 stride 32 + two deconvs (x4): 64x64 input -> 8x8 heatmap
codec = dict(type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(8, 8), sigma=1)
model = dict(
    backbone=dict(depth=18, init_cfg=None),
    head=dict(in_channels=512, deconv_out_channels=(16, 16), deconv_kernel_sizes=(4, 4),
              decoder=codec),
    test_cfg=dict(flip_test=False))

train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=4, val_interval=100,
                 val_begin=10**6)
log_processor = dict(by_epoch=False)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=2, by_epoch=False, save_best=None))
randomness = dict(seed=0)
pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
fixtures = '../shared/fixtures/'
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(data_root=fixtures, ann_file='coco/test_coco.json',
                 data_prefix=dict(img='coco/'), pipeline=pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=fixtures, ann_file='coco/test_coco.json', bbox_file=None,
                 data_prefix=dict(img='coco/'),
                 pipeline=[p for p in pipeline if p['type'] != 'GenerateTarget']))
test_dataloader = val_dataloader
val_evaluator = dict(type='CocoMetric', ann_file=fixtures + 'coco/test_coco.json')
test_evaluator = val_evaluator
