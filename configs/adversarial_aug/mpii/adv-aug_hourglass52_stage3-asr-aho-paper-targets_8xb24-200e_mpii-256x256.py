# Stage 3 of 3 (seed 001), "+ASR+AHO" with the paper's targets: as
# adv-aug_hourglass52_stage3-asr-aho_8xb24-200e_mpii-256x256.py, but G learns toward the
# reward/penalty targets of Eq. 5, 6 as the paper states them, without the release's clipping
# of every bin to [0, 2/k] (which the shipped configs use: with unclipped targets G's
# distributions collapsed onto one extreme bin in the synthetic study of
# configs/adversarial_aug/README.md).
#   tools/dist_train.sh configs/adversarial_aug/mpii/adv-aug_hourglass52_stage3-asr-aho-paper-targets_8xb24-200e_mpii-256x256.py 8
_base_ = ['./adv-aug_hourglass52_stage3-asr-aho_8xb24-200e_mpii-256x256.py']

model = dict(clip_target=False)
