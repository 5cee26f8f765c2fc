"""JointCutout (pipeline transform) against the batch-tensor Joint Cutout of PoseDual: the
same joints and draws give the same boxes and the same cut pixels."""
import numpy as np
import pytest
import torch
from mmpose.datasets.transforms import GetBBoxCenterScale, TopdownAffine

from mmssl.datasets.transforms import JointCutout
from mmssl.datasets.transforms.joint_cutout import MEAN_BGR
from mmssl.models.semi_pose.batch_augment import joint_cutout, sample_joint_cutout


def _sample(h=128, w=96, k=6, seed=0):
    rng = np.random.default_rng(seed)
    kpts = np.stack([rng.uniform(10, w - 10, k), rng.uniform(10, h - 10, k)], -1)[None]
    return dict(img=rng.uniform(0, 255, (h, w, 3)).astype(np.uint8),
                transformed_keypoints=kpts.astype(np.float32),
                keypoints_visible=np.ones((1, k), np.float32))


def test_same_draws_same_boxes_and_pixels_as_the_batch_tensor():
    k, m, (w, h) = 6, 5, (96, 128)
    joints = torch.rand(3, k, 2) * torch.tensor([w, h])
    gen = torch.Generator().manual_seed(7)
    centers, half = sample_joint_cutout(joints, (w, h), num_joints=m, generator=gen)
    # the same draws, in the batch sampler's order (randint, randn, rand)
    gen = torch.Generator().manual_seed(7)
    pick = torch.randint(k, (3, m), generator=gen)
    noise = torch.randn(3, m, 2, generator=gen)
    unit = torch.rand(3, m, 2, generator=gen)
    t = JointCutout(num_joints=m, fill=0.)
    images = torch.rand(3, 3, h, w) + 0.5  # no zeros before the cut
    batch_cut = joint_cutout(images, centers, half)
    for b in range(3):
        c, hs = t.boxes(joints[b][pick[b]].numpy(), noise[b].numpy(), unit[b].numpy(), h)
        np.testing.assert_allclose(c, centers[b].numpy(), rtol=0, atol=1e-5)
        np.testing.assert_allclose(hs, half[b].numpy(), rtol=0, atol=1e-5)
        img = images[b].permute(1, 2, 0).numpy()  # HWC, as in a pipeline
        cut = t.cut(img, c, hs)
        np.testing.assert_array_equal(cut, batch_cut[b].permute(1, 2, 0).numpy())
        assert (cut == 0).any()


def test_transform_cuts_at_visible_joints_only_with_the_mean_colour():
    np.random.seed(0)
    res = _sample()
    res['keypoints_visible'][0, 1:] = 0  # only joint 0 is a candidate
    kp0 = res['transformed_keypoints'][0, 0].copy()
    out = JointCutout(num_joints=5, jitter=0., half_size_range=(8., 8.),
                      reference_height=128.)(dict(res, img=res['img'].copy()))
    changed = np.any(out['img'] != res['img'], -1)
    ys, xs = np.nonzero(changed)
    assert changed.any()
    # one box of half size 8 around joint 0 (jitter 0): every changed pixel is inside it
    assert np.all(np.abs(xs - kp0[0]) <= 8) and np.all(np.abs(ys - kp0[1]) <= 8)
    np.testing.assert_array_equal(out['img'][ys[0], xs[0]],
                                  np.round(np.asarray(MEAN_BGR)).astype(np.uint8))
    np.testing.assert_array_equal(out['transformed_keypoints'], res['transformed_keypoints'])


def test_box_sizes_scale_with_the_crop_height():
    t = JointCutout(num_joints=1, jitter=10., half_size_range=(10., 20.))
    c, hs = t.boxes(np.array([[50., 60.]]), np.array([[1., 0.]]), np.array([[0., 1.]]), 128)
    np.testing.assert_allclose(c, [[55., 60.]])  # 10 px jitter at 256 -> 5 px at 128
    np.testing.assert_allclose(hs, [[5., 10.]])


def test_no_visible_joint_leaves_the_image_and_a_missing_key_is_named():
    res = _sample()
    res['keypoints_visible'][:] = 0
    out = JointCutout()(dict(res, img=res['img'].copy()))
    np.testing.assert_array_equal(out['img'], res['img'])
    with pytest.raises(KeyError, match='after TopdownAffine'):
        JointCutout()(dict(img=res['img']))


def test_in_an_mmpose_pipeline_after_topdown_affine():
    rng = np.random.default_rng(1)
    res = dict(img=rng.integers(0, 255, (200, 160, 3), dtype=np.uint8),
               bbox=np.array([[20., 30., 140., 190.]], np.float32),
               keypoints=rng.uniform(40, 140, (1, 8, 2)).astype(np.float32),
               keypoints_visible=np.ones((1, 8), np.float32))
    for t in (GetBBoxCenterScale(), TopdownAffine(input_size=(96, 128)),
              JointCutout(num_joints=3)):
        res = t(res)
    assert res['img'].shape == (128, 96, 3)
