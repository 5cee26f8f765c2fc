import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmpose.datasets import CocoDataset

from mmssl.datasets import UnlabeledTopDownDataset



@pytest.fixture(autouse=True)
def _mmpose_scope():
    init_default_scope('mmpose')


def _labeled(fixtures_dir, pipeline):
    return CocoDataset(ann_file=str(fixtures_dir / 'coco/test_coco.json'),
                       data_prefix=dict(img=str(fixtures_dir / 'coco') + '/'),
                       pipeline=pipeline)


@pytest.mark.parametrize('use_udp', [False, True])
@pytest.mark.parametrize('input_size', [(192, 256), (128, 128)])
def test_warp_matrix_maps_original_keypoints_exactly(fixtures_dir, use_udp, input_size):
    """warp_mat @ original keypoint == the keypoint mmpose's pipeline produced, with a
    flip, a rotation, a scale and a shift in the chain."""
    pipeline = [
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale'),
        dict(type='RandomFlip', prob=1.0, direction='horizontal'),
        dict(type='RandomBBoxTransform', rotate_prob=1.0, rotate_factor=60.,
             scale_factor=(0.7, 1.3), shift_prob=1.0),
        dict(type='TopdownAffineWithMatrix', input_size=input_size, use_udp=use_udp),
    ]
    raw = _labeled(fixtures_dir, [])
    ds = _labeled(fixtures_dir, pipeline)
    for i in range(3):
        original = raw.get_data_info(i)
        out = ds[i]
        assert out['flip'] and abs(out['bbox_rotation'][0]) > 0
        kpt = original['keypoints'][0]
        vis = original['keypoints_visible'][0] > 0
        homog = np.concatenate([kpt, np.ones((len(kpt), 1))], 1)
        mapped = (out['warp_mat'] @ homog.T).T[:, :2]
        # mmpose swaps left/right channels on flip: compare in the flipped channel order
        flip_idx = original['flip_indices']
        expected = out['transformed_keypoints'][0][flip_idx]
        np.testing.assert_allclose(mapped[vis], expected[vis], atol=1e-3)


def test_multibranch_packs_labeled_and_unlabeled_views(fixtures_dir):
    sup = [dict(type='PackSemiPoseInputs')]
    view = [dict(type='RandomFlip', prob=0.5),
            dict(type='TopdownAffineWithMatrix', input_size=(96, 128)),
            dict(type='PackSemiPoseInputs')]
    branches = ['sup', 'unsup_teacher', 'unsup_student']
    lab = _labeled(fixtures_dir, [
        dict(type='LoadImage'), dict(type='GetBBoxCenterScale'),
        dict(type='TopdownAffineWithMatrix', input_size=(96, 128)),
        dict(type='GenerateTarget', encoder=dict(type='MSRAHeatmap', input_size=(96, 128),
                                                 heatmap_size=(24, 32), sigma=1.5)),
        dict(type='PoseMultiBranch', branch_field=branches, sup=sup)])
    unl = UnlabeledTopDownDataset(
        ann_file=str(fixtures_dir / 'coco/test_coco.json'),
        data_prefix=dict(img=str(fixtures_dir / 'coco') + '/'),
        pipeline=[dict(type='LoadImage'), dict(type='GetBBoxCenterScale'),
                  dict(type='PoseMultiBranch', branch_field=branches,
                       unsup_teacher=view, unsup_student=view)])
    a, b = lab[0], unl[3]
    assert a['inputs']['sup'].shape == (3, 128, 96)
    assert a['inputs']['unsup_teacher'] is None
    assert b['inputs']['sup'] is None
    assert b['inputs']['unsup_teacher'].shape == (3, 128, 96)
    teacher, student = b['data_samples']['unsup_teacher'], b['data_samples']['unsup_student']
    assert teacher.metainfo['warp_mat'].shape == (3, 3)
    assert 'heatmaps' in a['data_samples']['sup'].gt_fields
    assert 'dataset' not in b['data_samples']['unsup_teacher'].metainfo
    assert student.metainfo['img_id'] == teacher.metainfo['img_id']
