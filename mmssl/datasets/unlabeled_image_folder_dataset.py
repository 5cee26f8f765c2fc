"""Unlabeled top-down samples read straight from an image folder (no annotation file).

:class:`UnlabeledTopDownDataset` reads images and boxes from a COCO file; an omni-supervised
collection (CelebA, RSNA bone age) is only a folder of images, perhaps with a face
detector's results. This dataset builds the same samples from the folder itself (whole-image
boxes, or the detector's boxes filtered by score), with the rules and file format of
:mod:`mmssl.datasets.image_folder`, for training that mixes labeled and unlabeled batches.

The self-training runner (STLD) needs the unlabeled set as a file, because its pseudo-label
files copy the unlabeled annotations: write that file with
``tools/dataset_converters/image_folder_to_coco.py`` (same rules, same boxes).
"""
import os.path as osp

from mmpose.registry import DATASETS
from xtcocotools.coco import COCO

from .image_folder import image_folder_to_coco
from .unlabeled_topdown_dataset import UnlabeledTopDownDataset


@DATASETS.register_module()
class UnlabeledImageFolderDataset(UnlabeledTopDownDataset):
    """The images of ``data_prefix['img']`` (under ``data_root``) as unlabeled samples.

    Args:
        det_file (str, optional): A face/person detector's results for the folder: a JSON
            list of ``{"file_name", "bbox": [x, y, w, h], "score"}`` (file names relative to
            the folder; relative paths are looked up under ``data_root``). Without it, each
            image is one whole-image box.
        det_score_thr (float): Detector boxes scoring below this are dropped.
        max_per_image (int, optional): Highest-scoring boxes kept per image (None: all).
        box_scale (float): Enlarge each box this many times about its centre.
        **kwargs: as :class:`UnlabeledTopDownDataset` (``data_root``, ``data_prefix``,
            ``metainfo``, ``min_box_size``, ``use_center_scale``, ``pipeline``, ...), except
            ``ann_file`` and ``bbox_file``, which a folder does not have.
    """

    def __init__(self, det_file=None, det_score_thr: float = 0.0, max_per_image=1,
                 box_scale: float = 1.0, **kwargs) -> None:
        for key in ('ann_file', 'bbox_file'):
            if kwargs.get(key):
                raise ValueError(f'UnlabeledImageFolderDataset reads a folder '
                                 f'(data_prefix["img"]), not {key}={kwargs[key]!r}; use '
                                 'det_file for detector boxes, or UnlabeledTopDownDataset '
                                 'for a COCO file')
            kwargs.pop(key, None)
        self.det_file = det_file
        self.det_score_thr = det_score_thr
        self.max_per_image = max_per_image
        self.box_scale = box_scale
        super().__init__(**kwargs)

    def _load_coco(self) -> COCO:
        det_file = self.det_file
        if det_file and self.data_root and not osp.isabs(det_file):
            det_file = osp.join(self.data_root, det_file)
        coco = COCO()
        coco.dataset = image_folder_to_coco(
            self.data_prefix['img'], self.metainfo['num_keypoints'], det_file=det_file,
            score_thr=self.det_score_thr, max_per_image=self.max_per_image,
            min_box_size=self.min_box_size, box_scale=self.box_scale)
        coco.createIndex()
        return coco
