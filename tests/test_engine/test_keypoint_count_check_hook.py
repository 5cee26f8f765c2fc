import pytest
from mmengine.registry import init_default_scope
from mmpose.datasets import Face300WDataset
from mmpose.models import TopdownPoseEstimator

from mmssl.datasets import UnlabeledTopDownDataset
from mmssl.engine.hooks import check_keypoint_counts


def _model(num_keypoints):
    init_default_scope('mmpose')
    return TopdownPoseEstimator(
        backbone=dict(type='ResNet', depth=18, base_channels=8, stem_channels=8),
        head=dict(type='HeatmapHead', in_channels=64, out_channels=num_keypoints,
                  deconv_out_channels=None))


def test_mismatch_names_dataset_file_and_head(fixtures_dir):
    ds = Face300WDataset(ann_file=str(fixtures_dir / '300w/test_300w.json'),
                         data_prefix=dict(img=str(fixtures_dir / '300w') + '/'))
    with pytest.raises(ValueError, match=r'test_300w.json\) has 68 keypoints but the model '
                       r'head "head" predicts 17'):
        check_keypoint_counts(_model(17), ds, 'train')
    check_keypoint_counts(_model(68), ds, 'train')  # consistent: no error


def test_mixed_sources_are_each_checked(fixtures_dir):
    from torch.utils.data import ConcatDataset
    labeled = Face300WDataset(ann_file=str(fixtures_dir / '300w/test_300w.json'),
                              data_prefix=dict(img=str(fixtures_dir / '300w') + '/'))
    unlabeled = UnlabeledTopDownDataset(ann_file=str(fixtures_dir / 'coco/test_coco.json'))
    with pytest.raises(ValueError, match=r'UnlabeledTopDownDataset .*test_coco.json\) has '
                       r'17 keypoints'):
        check_keypoint_counts(_model(68), ConcatDataset([labeled, unlabeled]), 'train')
