# Control of the synthetic study (seed 001): the random baseline with its last third of every
# batch on the plain crop, as the joint step's AHO share trains on the plain crop; so
# "ASR+AHO vs random" can be told apart from "a third of the batch unwarped vs none".
_base_ = ['./adv-aug_res18-w16_stage3-random_synthetic-body-64x64.py']

model = dict(random_plain_share=1 / 3)
