# The training augmentation of STLD's public release (seed 003, jhb86253817/STLD,
# lib/data_utils.py, ImageFolder_map/ImageFolder_tf.__getitem__), as MMPose transforms. The
# release applies, on its 256x256 face crop and in this order:
#   translate x, y by U(-30, 30) px (p 0.5)      -> UniformBBoxTransform shift 30/256 of the box
#   random-colour box <= 0.4 W x 0.4 H (p 0.5)    -> RandomOcclusionBox (rotated with the view)
#   flip with the landmark permutation (p 0.5)    -> RandomFlip (dataset flip_indices)
#   rotate U(-30, 30) deg about the centre (p 0.5) -> UniformBBoxTransform rotation
#   Gaussian blur, radius U(0, 2) (p 0.3)         -> RandomGaussianBlur (PIL's filter)
# then (lib/train_stld.py, every training set's torchvision transforms):
#   RandomGrayscale(0.2), 3 channels kept        -> mmcv RandomGrayscale (ITU-R 601 luma
#                                                   weights of torchvision, in BGR order)
# Its crop (lib/preprocess.py) is the landmarks' box enlarged 1.1x for 300W; MMPose's face
# annotation files give each face a square box centred on the landmarks' box with its longer
# side (center, scale * 200), so GetBBoxCenterScale(padding=1.1) crops the same region, square
# (the release stretches the 1.1x box to 256x256). Train, test and pseudo-labelling crops use
# the same padding, as the release does. Where the two differ: the release's translation and
# rotation show black outside its crop, MMPose's warp shows the image around it; for WFLW and
# AFLW the release crops the datasets' own face rectangles (not enlarged), which MMPose's
# files do not keep.
# The face bases compose their pipelines from these lists (`_base_.stld_release_...`).
stld_release_crop_padding = 1.1
stld_release_box_augment = [
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='UniformBBoxTransform', shift_factor=30. / 256, shift_prob=0.5,
         rotate_factor=30., rotate_prob=0.5),
]
stld_release_crop_augment = [
    dict(type='RandomOcclusionBox', prob=0.5, max_size=0.4),
    dict(type='RandomGaussianBlur', prob=0.3, max_radius=2.0),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
         channel_weights=(0.114, 0.587, 0.299)),
]
