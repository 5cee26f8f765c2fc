# The semi-supervised COCO parts of seed 000's recipe for PoseDual configs that inherit an
# unmodified MMPose config next to this file (RTMPose, RLE, ...): every name here is new
# (``semi_*``), so it merges with any mmpose base; the child assigns them and wraps its base
# ``model`` as ``PoseDual(estimator=...)``. Same splits, unlabeled set, batches and augmentation
# as ./posedual_semi-coco.py:
#   labeled:   the first N non-crowd persons with keypoints (tools/misc/split_coco_keypoints.py),
#              augmented as the release does: the easy view's distribution, no half-body
#   unlabeled: train2017 persons with >= 1 labeled keypoint (the paper's COCO 150K), easy view
#   batches:   8 GPUs x (4 labeled + 4 unlabeled), epoch = max(len(L), len(U)) samples
# A base file cannot read its child's codec, so the children complete the pipelines
# (semi_easy_aug + TopdownAffine(codec input size) [+ GenerateTarget] + the packing).
semi_data_root = 'data/coco/'
semi_branches = ['sup', 'unsup_teacher']
# flip 0.5, scale clip(N(1, .25), .75, 1.25), rotation clip(N(0, 30), +-60) with p .6
semi_easy_aug = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='ClippedNormalBBoxTransform', scale_sigma=0.25, scale_range=(0.75, 1.25),
         rotate_sigma=30., rotate_limit=60., rotate_prob=0.6),
]
semi_pack_labeled = dict(type='PoseMultiBranch', branch_field=semi_branches,
                         sup=[dict(type='PackSemiPoseInputs')])
semi_pack_unlabeled = dict(type='PoseMultiBranch', branch_field=semi_branches,
                           unsup_teacher=[dict(type='PackSemiPoseInputs')])
semi_unlabeled_dataset = dict(
    type='UnlabeledTopDownDataset', data_root=semi_data_root,
    ann_file='annotations/person_keypoints_train2017.json', min_num_keypoints=1,
    data_prefix=dict(img='train2017/'))
semi_labeled_dataset = dict(type='CocoDataset', data_root=semi_data_root, data_mode='topdown',
                            data_prefix=dict(img='train2017/'))
semi_hard_affine = dict(scale_sigma=0.25, scale_range=(0.75, 1.25), rot_sigma=30.,
                        rot_range=60., rot_prob=0.8)
