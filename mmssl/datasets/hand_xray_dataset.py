"""The hand X-ray landmark dataset of STLD's medical experiments (seed 003, Sec. V-A.2).

Images of the Digital Hand Atlas (https://ipilab.usc.edu/research/baaweb/) with the 37
landmarks of Payer et al. (MedIA 2019); the paper trains on 609 images and tests on 300,
resized to 512 x 512, and reports the mean radial error in millimetres under Payer et al.'s
assumption of a 50 mm wrist width (:class:`~mmssl.evaluation.LandmarkMRE`).

The annotation file is COCO-format, one instance per image (written by
``tools/dataset_converters/hand_xray_csv_to_coco.py`` from Payer et al.'s landmark CSV): the
box is the whole image, so that labeled, unlabeled (RSNA bone-age images, which have no
landmarks) and test crops are framed alike, as the paper's whole-image resize is.
"""
import os.path as osp
from typing import Optional

from mmpose.datasets.datasets.base import BaseCocoStyleDataset
from mmpose.registry import DATASETS

#: the keypoint metainfo file (names, no flip pairs, skeleton, sigmas)
HAND_XRAY_METAINFO_FILE = osp.join(osp.dirname(osp.abspath(__file__)), 'hand_xray_metainfo.py')
#: keypoints per hand
HAND_XRAY_NUM_KEYPOINTS = 37
#: the two landmarks whose distance Payer et al. take as the wrist width (0-based, their
#: evaluation's ``normalization_indizes=[1, 5]``) and the width they assume for it
WRIST_WIDTH_KEYPOINTS = (1, 5)
WRIST_WIDTH_MM = 50.0


@DATASETS.register_module()
class HandXrayDataset(BaseCocoStyleDataset):
    """Hand X-rays with Payer et al.'s 37 landmarks, read from a COCO-format file.

    mmpose's COCO-style loading (``bbox`` xywh, ``keypoints`` as x, y, v triplets) with the
    hand metainfo; an annotation whose keypoint list is not 37 triplets is refused with the
    file and annotation named (mmpose would fail later with a bare reshape error, or silently
    train a model of another keypoint count).

    The metainfo has no flip pairs: flipping a hand radiograph makes a mirror-image hand
    whose landmarks no permutation restores, so train pipelines must not contain
    ``RandomFlip`` and ``test_cfg.flip_test`` must stay off (the configs in
    ``configs/stld/hand`` do neither).

    Args:
        **kwargs: as :class:`~mmpose.datasets.datasets.base.BaseCocoStyleDataset`
            (``ann_file``, ``data_root``, ``data_prefix``, ``pipeline``, ``test_mode``, ...).
    """

    METAINFO: dict = dict(from_file=HAND_XRAY_METAINFO_FILE)

    def parse_data_info(self, raw_data_info: dict) -> Optional[dict]:
        """mmpose's parsing after checking the keypoint count of the annotation."""
        ann = raw_data_info['raw_ann_info']
        num = self.metainfo['num_keypoints']
        if 'keypoints' in ann and len(ann['keypoints']) != 3 * num:
            raise ValueError(
                f'{self.ann_file}: annotation {ann.get("id")} (image {ann.get("image_id")}) '
                f'has {len(ann["keypoints"])} keypoint values, expected {3 * num} '
                f'({num} x, y, visibility triplets)')
        return super().parse_data_info(raw_data_info)
