"""ASR on the batch tensor: exact keypoint geometry, images, and targets that equal what
mmpose's codec would encode for the warped keypoints."""
import numpy as np
import pytest
import torch
from mmpose.codecs import MSRAHeatmap

from mmssl.models.augmenters import (codec_geometry, render_msra_heatmaps,
                                     scale_rotation_matrices, warp_samples)
from mmssl.models.semi_pose.batch_augment import apply_to_points


def _draws(b, seed=0):
    gen = torch.Generator().manual_seed(seed)
    scale = torch.exp2(torch.rand(b, generator=gen) * 1.2 - 0.6)
    rot = torch.rand(b, generator=gen) * 120 - 60
    return scale, rot


def test_keypoints_round_trip_and_scale_semantics():
    scale, rot = _draws(8)
    mats = scale_rotation_matrices(scale, rot, (96, 128))
    kpts = torch.rand(8, 17, 2) * torch.tensor([96., 128.])
    there = apply_to_points(mats, kpts)
    back = apply_to_points(torch.linalg.inv(mats), there)
    torch.testing.assert_close(back, kpts, atol=1e-4, rtol=0)
    centre = torch.tensor([47.5, 63.5])
    # a box scale s shrinks the content about the centre by s; rotation keeps distances
    ratio = (there - centre).norm(dim=-1) / (kpts - centre).norm(dim=-1)
    torch.testing.assert_close(ratio, (1 / scale)[:, None].expand(-1, 17), atol=1e-4, rtol=0)
    mats = scale_rotation_matrices(torch.ones(1), torch.tensor([90.]), (64, 64))
    up = apply_to_points(mats, torch.tensor([[[31.5, 11.5]]]))  # above the centre
    torch.testing.assert_close(up, torch.tensor([[[11.5, 31.5]]]), atol=1e-4, rtol=0)
    # 90 degrees counter-clockwise on screen: the top moves to the left


def test_image_content_moves_where_the_keypoints_go():
    b, size = 6, 64
    scale, rot = _draws(b, seed=1)
    mats = scale_rotation_matrices(scale, rot, (size, size))
    kpts = 20 + torch.rand(b, 1, 2, generator=torch.Generator().manual_seed(2)) * 24
    ys, xs = torch.meshgrid(torch.arange(size.__float__()), torch.arange(size.__float__()),
                            indexing='ij')
    blob = torch.exp(-((xs - kpts[:, :, 0, None, None]) ** 2 +
                       (ys - kpts[:, :, 1, None, None]) ** 2) / (2 * 2.5 ** 2))  # [B,1,H,W]
    out = warp_samples(blob.repeat(1, 3, 1, 1), kpts, torch.ones(b, 1),
                       torch.zeros(b, 1, 16, 16), mats,
                       codec_geometry(MSRAHeatmap((size, size), (16, 16), 2.)))
    img = out['images'][:, 0]
    mass = img.sum((1, 2))
    centroid = torch.stack([(img * xs).sum((1, 2)) / mass, (img * ys).sum((1, 2)) / mass], -1)
    torch.testing.assert_close(centroid, out['keypoints'][:, 0], atol=0.1, rtol=0)


@pytest.mark.parametrize('sigma,unbiased', [(2., False), (1.5, False), (2., True)])
def test_reencoded_targets_equal_mmpose_codec(sigma, unbiased):
    b, k = 16, 17
    codec = MSRAHeatmap(input_size=(96, 128), heatmap_size=(24, 32), sigma=sigma,
                        unbiased=unbiased)
    scale, rot = _draws(b, seed=3)
    mats = scale_rotation_matrices(scale * 0.8, rot, (96, 128))
    gen = torch.Generator().manual_seed(4)
    kpts = torch.rand(b, k, 2, generator=gen) * torch.tensor([96., 128.])
    weights = (torch.rand(b, k, generator=gen) > 0.2).float()
    out = warp_samples(torch.zeros(b, 3, 128, 96), kpts, weights,
                       torch.zeros(b, k, 32, 24), mats, codec_geometry(codec))
    n_out = 0
    for i in range(b):
        moved = out['keypoints'][i:i + 1].numpy()
        enc = codec.encode(moved, weights[i:i + 1].numpy())
        np.testing.assert_allclose(out['heatmaps'][i].numpy(), enc['heatmaps'], atol=1e-6)
        np.testing.assert_array_equal(out['weights'][i].numpy(), enc['keypoint_weights'][0])
        n_out += int(((weights[i] > 0) & (out['weights'][i] == 0)).sum())
    assert n_out > 0  # some keypoints left the heatmap and lost their weight


def test_warp_mode_moves_heatmaps_with_the_image():
    size, b = 64, 4
    codec = MSRAHeatmap(input_size=(size, size), heatmap_size=(16, 16), sigma=2.)
    kpts = torch.tensor([[[30., 22.], [40., 36.]]]).repeat(b, 1, 1)
    enc = [codec.encode(k[None].numpy(), np.ones((1, 2), np.float32)) for k in kpts]
    heatmaps = torch.stack([torch.from_numpy(e['heatmaps']) for e in enc])
    mats = scale_rotation_matrices(torch.ones(b), torch.tensor([0., 20., -40., 60.]),
                                   (size, size))
    out = warp_samples(torch.zeros(b, 3, size, size), kpts, torch.ones(b, 2), heatmaps, mats,
                       codec_geometry(codec), target_mode='warp')
    peak = out['heatmaps'].flatten(2).argmax(-1)
    peak_xy = torch.stack([peak % 16, peak // 16], -1).float() * 4
    # the codec centred each Gaussian on a heatmap pixel; the warp carries that centre
    centre = apply_to_points(mats, torch.trunc(kpts / 4 + 0.5) * 4)
    assert (peak_xy - centre).abs().max() <= 2.0 + 1e-4  # nearest heatmap pixel
    with pytest.raises(ValueError, match='target_mode'):
        warp_samples(torch.zeros(1, 3, 8, 8), kpts[:1], torch.ones(1, 2), heatmaps[:1],
                     mats[:1], codec_geometry(codec), target_mode='nearest')


def test_reencode_refuses_other_codecs():
    from mmpose.codecs import UDPHeatmap
    geo = codec_geometry(UDPHeatmap(input_size=(64, 64), heatmap_size=(16, 16)))
    with pytest.raises(ValueError, match="use target_mode='warp'"):
        warp_samples(torch.zeros(1, 3, 64, 64), torch.zeros(1, 1, 2), torch.ones(1, 1),
                     torch.zeros(1, 1, 16, 16), torch.eye(3)[None], geo)
    hm, w = render_msra_heatmaps(torch.tensor([[[-40., 5.]]]), torch.ones(1, 1), (16, 16),
                                 (4., 4.), 2.)
    assert float(w) == 0 and float(hm.abs().sum()) == 0
