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


def test_combined_dataset_is_checked_with_its_own_metainfo(fixtures_dir):
    """A CombinedDataset hands the model its combined keypoint set (KeypointConverter), so a
    17-keypoint COCO part converted to 68 face points is fine for a 68-keypoint head."""
    from mmpose.datasets import CombinedDataset
    mapping = [(i, i) for i in range(17)]
    combined = CombinedDataset(
        metainfo=dict(from_file='configs/_base_/datasets/300w.py'),
        datasets=[dict(type='CocoDataset', ann_file=str(fixtures_dir / 'coco/test_coco.json'),
                       data_prefix=dict(img=str(fixtures_dir / 'coco') + '/'),
                       pipeline=[dict(type='KeypointConverter', num_keypoints=68,
                                      mapping=mapping)])],
        pipeline=[])
    check_keypoint_counts(_model(68), combined, 'train')  # the converted count: no error
    with pytest.raises(ValueError, match='CombinedDataset .* has 68 keypoints'):
        check_keypoint_counts(_model(17), combined, 'train')
