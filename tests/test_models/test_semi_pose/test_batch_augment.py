import numpy as np
import pytest
import torch
from mmpose.codecs import MSRAHeatmap

from mmssl.models.semi_pose.batch_augment import (affine_about_center, apply_to_points,
                                                  joint_cutout, sample_hard_affine,
                                                  sample_joint_cutout, warp_tensor)


@pytest.mark.parametrize('input_size,heatmap_size', [((128, 128), (32, 32)),
                                                     ((192, 256), (48, 64))])
@pytest.mark.parametrize('scale,rot', [(1.0, 0.), (1.2, 35.), (0.8, -50.)])
def test_warped_teacher_gaussian_lands_at_transformed_keypoint(input_size, heatmap_size,
                                                               scale, rot):
    """T_{e->h}: a Gaussian rendered at a keypoint of the easy view, warped with the hard
    affine on the heatmap grid, peaks where the same affine sends the keypoint in input
    pixels (non-square 256x192 included)."""
    codec = MSRAHeatmap(input_size=input_size, heatmap_size=heatmap_size, sigma=2,
                        unbiased=True)
    w, h = input_size
    kpts = np.array([[[0.5 * w, 0.4 * h], [0.3 * w, 0.7 * h], [0.62 * w, 0.55 * h]]])
    heatmap = torch.from_numpy(codec.encode(kpts)['heatmaps'])[None].float()
    mat = affine_about_center(torch.tensor([scale]), torch.tensor([rot]), (w, h))
    stride = (w / heatmap_size[0], h / heatmap_size[1])
    warped = warp_tensor(heatmap, mat, stride)
    decoded, _ = codec.decode(warped[0].numpy())
    expected = apply_to_points(mat, torch.from_numpy(kpts).float())[0].numpy()
    np.testing.assert_allclose(decoded[0], expected, atol=0.25 * stride[0])


def test_image_and_points_warp_agree():
    img = torch.zeros(1, 1, 64, 48)
    img[0, 0, 20, 10] = 1.  # pixel (x=10, y=20)
    mat = affine_about_center(torch.tensor([1.1]), torch.tensor([30.]), (48, 64))
    out = warp_tensor(img, mat)
    y, x = np.unravel_index(out[0, 0].argmax().item(), (64, 48))
    px = apply_to_points(mat, torch.tensor([[[10., 20.]]]))[0, 0]
    assert abs(x - px[0]) <= 1 and abs(y - px[1]) <= 1


def test_joint_cutout_zeroes_exactly_the_boxes():
    images = torch.randn(2, 3, 40, 30) + 5  # no accidental zeros
    centers = torch.tensor([[[10., 12.], [25., 30.]], [[0., 0.], [29., 39.]]])
    half = torch.tensor([[[2., 3.], [1., 1.]], [[2., 2.], [0., 0.]]])
    out = joint_cutout(images, centers, half)
    expected = torch.ones(2, 40, 30, dtype=torch.bool)
    expected[0, 9:16, 8:13] = False
    expected[0, 29:32, 24:27] = False
    expected[1, 0:3, 0:3] = False
    expected[1, 39, 29] = False
    assert torch.equal(out != 0, expected[:, None].expand(-1, 3, -1, -1))
    assert torch.equal(out[expected[:, None].expand(-1, 3, -1, -1)],
                       images[expected[:, None].expand(-1, 3, -1, -1)])


def test_cutout_sampling_uses_given_joints_and_scales_sizes():
    g = torch.Generator().manual_seed(0)
    joints = torch.tensor([[[100., 50.], [20., 200.]]]).expand(500, -1, -1)
    centers, half = sample_joint_cutout(joints, (96, 128), num_joints=5, jitter=0.,
                                        generator=g)
    assert centers.shape == (500, 5, 2)
    assert set(map(tuple, centers.reshape(-1, 2).tolist())) == {(100., 50.), (20., 200.)}
    assert half.min() >= 10 * 0.5 and half.max() <= 20 * 0.5  # 128 px high = half of 256


def test_hard_affine_distribution():
    g = torch.Generator().manual_seed(0)
    mats = sample_hard_affine(4000, (192, 256), generator=g)
    scale = torch.linalg.det(mats[:, :2, :2]).sqrt()
    rot = torch.rad2deg(torch.atan2(mats[:, 0, 1], mats[:, 0, 0]))
    assert scale.min() >= 0.75 - 1e-5 and scale.max() <= 1.25 + 1e-5
    assert rot.abs().max() <= 60 + 1e-4
    assert abs((rot == 0).float().mean().item() - 0.2) < 0.03  # p(rotate) = 0.8
    centre = torch.tensor([[[95.5, 127.5]]]).expand(4000, -1, -1)
    torch.testing.assert_close(apply_to_points(mats, centre), centre)  # about the centre
