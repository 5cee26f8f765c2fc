# Keypoint metainfo of the hand X-ray landmarks (Digital Hand Atlas, 37 points per image, as
# labeled by Payer et al., MedIA 2019), in the ``dataset_info`` form that mmpose's
# ``parse_pose_metainfo`` reads (``metainfo=dict(from_file=<this file>)``; HandXrayDataset
# uses it by default). Plain data, no imports: mmengine's Config.fromfile loads it.
#
# Order: the column order of Payer et al.'s landmark CSV (setup/all.csv of their
# MedicalDataAugmentationTool-HeatmapRegression release). The CSV carries no names; the names
# below are ours, given from the points' positions, which we checked on all 910 rows of that
# file (the finger tips at the top of the image, the wrist at the bottom; left hands, the
# thumb at the larger x):
#   0-12   wrist_00..wrist_12   distal radius/ulna and carpal region
#   13-17  <ray>_base           the proximal landmark of each ray, little finger to thumb
#   18-20  thumb_1..thumb_3     proximal to distal (thumb_3 = the tip)
#   21-36  index/middle/ring/little_1..4, proximal to distal (_4 = the tip)
# Points 1 and 5 span the wrist width that Payer et al. set to 50 mm (their evaluation's
# ``normalization_indizes=[1, 5]``, ``normalization_factor=50``); LandmarkMRE uses that pair.
#
# A hand has no left/right counterpart within one image: no keypoint swaps with another, so
# a horizontal flip would turn a left hand into a right one. The hand configs do not flip
# (train or test).
dataset_info = dict(
    dataset_name='hand_xray',
    paper_info=dict(
        author='Payer, Christian and Stern, Darko and Bischof, Horst and Urschler, Martin',
        title='Integrating spatial configuration into heatmap regression based CNNs for '
        'landmark localization',
        container='Medical Image Analysis',
        year='2019',
        homepage='https://ipilab.usc.edu/research/baaweb/',
    ),
    keypoint_info={
        0: dict(name='wrist_00', id=0, color=[255, 255, 255], type='', swap=''),
        1: dict(name='wrist_01', id=1, color=[255, 0, 0], type='', swap=''),
        2: dict(name='wrist_02', id=2, color=[255, 255, 255], type='', swap=''),
        3: dict(name='wrist_03', id=3, color=[255, 255, 255], type='', swap=''),
        4: dict(name='wrist_04', id=4, color=[255, 255, 255], type='', swap=''),
        5: dict(name='wrist_05', id=5, color=[255, 0, 0], type='', swap=''),
        6: dict(name='wrist_06', id=6, color=[255, 255, 255], type='', swap=''),
        7: dict(name='wrist_07', id=7, color=[255, 255, 255], type='', swap=''),
        8: dict(name='wrist_08', id=8, color=[255, 255, 255], type='', swap=''),
        9: dict(name='wrist_09', id=9, color=[255, 255, 255], type='', swap=''),
        10: dict(name='wrist_10', id=10, color=[255, 255, 255], type='', swap=''),
        11: dict(name='wrist_11', id=11, color=[255, 255, 255], type='', swap=''),
        12: dict(name='wrist_12', id=12, color=[255, 255, 255], type='', swap=''),
        13: dict(name='little_base', id=13, color=[255, 0, 255], type='', swap=''),
        14: dict(name='ring_base', id=14, color=[0, 0, 255], type='', swap=''),
        15: dict(name='middle_base', id=15, color=[0, 255, 255], type='', swap=''),
        16: dict(name='index_base', id=16, color=[0, 255, 0], type='', swap=''),
        17: dict(name='thumb_base', id=17, color=[255, 128, 0], type='', swap=''),
        18: dict(name='thumb_1', id=18, color=[255, 128, 0], type='', swap=''),
        19: dict(name='thumb_2', id=19, color=[255, 128, 0], type='', swap=''),
        20: dict(name='thumb_3', id=20, color=[255, 128, 0], type='', swap=''),
        21: dict(name='index_1', id=21, color=[0, 255, 0], type='', swap=''),
        22: dict(name='index_2', id=22, color=[0, 255, 0], type='', swap=''),
        23: dict(name='index_3', id=23, color=[0, 255, 0], type='', swap=''),
        24: dict(name='index_4', id=24, color=[0, 255, 0], type='', swap=''),
        25: dict(name='middle_1', id=25, color=[0, 255, 255], type='', swap=''),
        26: dict(name='middle_2', id=26, color=[0, 255, 255], type='', swap=''),
        27: dict(name='middle_3', id=27, color=[0, 255, 255], type='', swap=''),
        28: dict(name='middle_4', id=28, color=[0, 255, 255], type='', swap=''),
        29: dict(name='ring_1', id=29, color=[0, 0, 255], type='', swap=''),
        30: dict(name='ring_2', id=30, color=[0, 0, 255], type='', swap=''),
        31: dict(name='ring_3', id=31, color=[0, 0, 255], type='', swap=''),
        32: dict(name='ring_4', id=32, color=[0, 0, 255], type='', swap=''),
        33: dict(name='little_1', id=33, color=[255, 0, 255], type='', swap=''),
        34: dict(name='little_2', id=34, color=[255, 0, 255], type='', swap=''),
        35: dict(name='little_3', id=35, color=[255, 0, 255], type='', swap=''),
        36: dict(name='little_4', id=36, color=[255, 0, 255], type='', swap=''),
    },
    skeleton_info={
        0: dict(link=('wrist_01', 'wrist_05'), id=0, color=[255, 0, 0]),
        1: dict(link=('thumb_base', 'thumb_1'), id=1, color=[255, 128, 0]),
        2: dict(link=('thumb_1', 'thumb_2'), id=2, color=[255, 128, 0]),
        3: dict(link=('thumb_2', 'thumb_3'), id=3, color=[255, 128, 0]),
        4: dict(link=('index_base', 'index_1'), id=4, color=[0, 255, 0]),
        5: dict(link=('index_1', 'index_2'), id=5, color=[0, 255, 0]),
        6: dict(link=('index_2', 'index_3'), id=6, color=[0, 255, 0]),
        7: dict(link=('index_3', 'index_4'), id=7, color=[0, 255, 0]),
        8: dict(link=('middle_base', 'middle_1'), id=8, color=[0, 255, 255]),
        9: dict(link=('middle_1', 'middle_2'), id=9, color=[0, 255, 255]),
        10: dict(link=('middle_2', 'middle_3'), id=10, color=[0, 255, 255]),
        11: dict(link=('middle_3', 'middle_4'), id=11, color=[0, 255, 255]),
        12: dict(link=('ring_base', 'ring_1'), id=12, color=[0, 0, 255]),
        13: dict(link=('ring_1', 'ring_2'), id=13, color=[0, 0, 255]),
        14: dict(link=('ring_2', 'ring_3'), id=14, color=[0, 0, 255]),
        15: dict(link=('ring_3', 'ring_4'), id=15, color=[0, 0, 255]),
        16: dict(link=('little_base', 'little_1'), id=16, color=[255, 0, 255]),
        17: dict(link=('little_1', 'little_2'), id=17, color=[255, 0, 255]),
        18: dict(link=('little_2', 'little_3'), id=18, color=[255, 0, 255]),
        19: dict(link=('little_3', 'little_4'), id=19, color=[255, 0, 255]),
    },
    joint_weights=[1.] * 37,
    # OKS sigmas (unused by the MRE metric; mmpose needs the field): one value for all
    # points, about the 0.025 of mmpose's hand datasets' fingertips
    sigmas=[0.025] * 37)
