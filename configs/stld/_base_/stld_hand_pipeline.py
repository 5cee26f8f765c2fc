# Augmentation of the hand X-ray configs (seed 003, Sec. V-A.2): the release's face recipe
# (./stld_release_pipeline.py) with two changes the data need. The paper resizes whole
# radiographs to 512 x 512, so the crop is the whole image (the annotation box, which
# tools/dataset_converters/hand_xray_csv_to_coco.py sets to the image, padding 1.0); and
# the hand is never flipped: its landmarks have no left/right counterparts, so a flipped
# left hand would be a right hand that no landmark permutation restores. Kept: translate
# by U(+-30/256 of the crop) and rotate U(+-30 deg) (p 0.5 each), then on the crop the
# release's occlusion box, blur and grayscale (stld_release_crop_augment, which the hand
# bases take from the face bases). Neither the paper nor the release describes the Hand
# augmentation; this transfer of the face one is ours.
stld_hand_crop_padding = 1.0
stld_hand_box_augment = [
    dict(type='UniformBBoxTransform', shift_factor=30. / 256, shift_prob=0.5,
         rotate_factor=30., rotate_prob=0.5),
]
