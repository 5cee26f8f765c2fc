"""LVIS v1 annotation files read with the COCO API (no ``lvis`` package needed).

mmdet's ``LVISV1Dataset`` loads annotations through the ``lvis`` package, which is not an
mmdet (nor mmssl) dependency. LVIS v1 files are COCO-format JSON except that images have
``coco_url`` instead of ``file_name``; :class:`LVISV1CocoFormatDataset` is mmdet's
``CocoDataset`` with LVIS v1's class list (``LVISV1Dataset.METAINFO``) and the file name taken
from ``coco_url`` (``.../train2017/000000391895.jpg`` -> ``train2017/000000391895.jpg``,
mmdet's rule), so the CI-SSOD LVIS configs train and evaluate (``GroupCocoMetric`` with
``frequency_groups=True``) with the packages mmssl already needs.
"""
from mmdet.datasets import CocoDataset, LVISV1Dataset
from mmdet.registry import DATASETS


@DATASETS.register_module()
class LVISV1CocoFormatDataset(CocoDataset):
    """LVIS v1 through the COCO API (see the module docstring)."""

    METAINFO = LVISV1Dataset.METAINFO

    def parse_data_info(self, raw_data_info: dict) -> dict:
        """``CocoDataset.parse_data_info`` with ``file_name`` derived from ``coco_url``."""
        img = raw_data_info['raw_img_info']
        if 'file_name' not in img:
            if 'coco_url' not in img:
                raise KeyError(f'{self.ann_file}: image {img.get("id")} has neither '
                               "'file_name' nor 'coco_url'")
            img['file_name'] = '/'.join(img['coco_url'].split('/')[-2:])
        return super().parse_data_info(raw_data_info)
