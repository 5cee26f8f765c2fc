# Adversarial data augmentation (seed 001) around MMPose's unmodified HourglassNet with 8
# stacks, the network of the paper's comparison with the state of the art on LSP (Table 3:
# LSP PCK@0.2, torso). Everything else as ./adv-aug_hourglass52_lsp-256x256.py: G reads the
# bridge features of the first hourglass and the same AHO mask is applied to every hourglass
# in the stack (Sec. 5.4), one intermediate supervision per stack (CPMHead with 8 stages).
_base_ = ['./adv-aug_hourglass52_lsp-256x256.py']

model = dict(estimator=dict(backbone=dict(num_stacks=8), head=dict(num_stages=8)))
