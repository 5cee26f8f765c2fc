"""Sub-pixel landmarks of belief maps for the lifting, and the paper's 46x46 maps at 368x368."""

import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmpose.codecs import MSRAHeatmap
from mmpose.registry import DATASETS, MODELS

from lifting_helpers import lifter, prior, project_held_out, single_thread  # noqa: F401  (fixtures)
from lifting_helpers import smoke_lifting_config
from mmssl.models.lifting import LiftingBeliefFusion, render_belief_maps
from mmssl.models.lifting.landmarks import DECODE_MODES, decode_landmarks
from mmssl.utils import walk_config


def _off_grid(num: int, size: int, seed: int) -> torch.Tensor:
    """Landmarks ``(num, 17, 2)`` inside the map, 0.3 .. 0.7 cell away from the grid in x
    and y (an integer argmax is then at least 0.3 cell off)."""
    gen = torch.Generator().manual_seed(seed)
    cell = torch.randint(2, size - 3, (num, 17, 2), generator=gen).double()
    frac = 0.3 + 0.4 * torch.rand(num, 17, 2, generator=gen, dtype=torch.float64)
    return cell + frac


@pytest.mark.parametrize('size,sigma', [(16, 1.0), (46, 1.0), (46, 2.0)])
def test_subpixel_decode_recovers_off_grid_landmarks_argmax_cannot(size, sigma):
    true = _off_grid(8, size, seed=size)
    maps = render_belief_maps(true, (size, size), sigma)
    errors = {m: (decode_landmarks(maps, m)[0] - true).abs().amax().item() for m in DECODE_MODES}
    assert errors['gaussian'] < 0.1 and errors['gaussian'] < 1e-6  # exact for a Gaussian
    assert errors['parabola'] < 0.1
    assert errors['argmax'] >= 0.3 - 1e-9
    # the same on the maps of MMPose's unbiased codec (float32, truncated at 3 sigma)
    codec = MSRAHeatmap(input_size=(8 * size, 8 * size), heatmap_size=(size, size),
                        sigma=sigma, unbiased=True)
    coded = torch.from_numpy(np.stack([
        codec.encode(t[None].numpy() * 8, np.ones((1, 17), np.float32))['heatmaps']
        for t in true]))
    landmarks, peak = decode_landmarks(coded)
    assert landmarks.dtype == torch.float32 and peak.shape == (8, 17)
    assert (landmarks.double() - true).abs().amax() < 0.1


def test_refinement_is_bounded_on_noisy_maps_and_border_maxima_are_not_moved():
    gen = torch.Generator().manual_seed(0)
    maps = torch.randn(4, 17, 12, 10, generator=gen)  # an untrained network: negative values
    maps[0, 0] = 0.  # flat map
    maps[1, 1, 0, 4] = 50.  # maximum on the top border
    base, _ = decode_landmarks(maps, 'argmax')
    for mode in ('parabola', 'gaussian'):
        out, _ = decode_landmarks(maps, mode)
        assert torch.isfinite(out).all()
        assert (out - base).abs().max() <= 0.5
        assert torch.equal(out[0, 0], base[0, 0])
        assert out[1, 1, 1] == 0  # y not refined at the border
    with pytest.raises(ValueError, match='decode must be one of'):
        decode_landmarks(maps, 'softargmax')
    with pytest.raises(ValueError, match=r'\(N, K, H, W\)'):
        decode_landmarks(maps[0])


def test_fusion_lifts_the_subpixel_landmarks(lifter):
    _, kpts = project_held_out(6, seed=3)
    # people ~ 8 cells tall on a 16x16 map, off the grid
    lo, hi = kpts.min((0, 1)), kpts.max((0, 1))
    cells = torch.from_numpy((kpts - lo) / (hi - lo).max() * 11 + 2.3)
    maps = render_belief_maps(cells, (16, 16), 1.0).float()
    exact = lifter(cells.float()).keypoints_2d
    results = {}
    for mode in ('argmax', 'gaussian'):
        fusion = LiftingBeliefFusion(lifter, 1, decode=mode)
        with torch.no_grad():
            _, res = fusion.project(maps)
        results[mode] = (res.keypoints_2d - exact).abs().max().item()
    assert results['gaussian'] < 1e-3 < results['argmax']


@pytest.fixture(scope='module')
def mmpose_scope():
    init_default_scope('mmpose')


def test_paper_resolution_368_input_gives_46x46_maps_through_the_config(
        tmp_path, mmpose_scope):
    # the config's codec, targets, network (CPM stride 8), lifting and rendering at 368 -> 46
    cfg = smoke_lifting_config(tmp_path)

    def paper_size(node: dict) -> None:
        if node.get('type') == 'MSRAHeatmap':
            node['input_size'], node['heatmap_size'] = (368, 368), (46, 46)
        if node.get('type') == 'TopdownAffine':
            node['input_size'] = (368, 368)
        if node.get('type') == 'LiftingCPM':
            node.update(num_stages=2, feat_channels=8, middle_channels=8)
        if node.get('type') == 'CPMHead':
            node['num_stages'] = 2

    for key in ('model', 'train_dataloader', 'val_dataloader'):
        walk_config(cfg[key], paper_size)
    train_set = DATASETS.build(cfg.train_dataloader.dataset)
    sample = train_set[0]
    assert sample['inputs'].shape == (3, 368, 368)
    assert sample['data_samples'].gt_fields.heatmaps.shape == (17, 46, 46)
    cfg.model.test_cfg.flip_test = False
    estimator = MODELS.build(cfg.model).eval()
    val_set = DATASETS.build(cfg.val_dataloader.dataset)
    with torch.no_grad():
        out = estimator.test_step(pseudo_collate([val_set[0]]))[0].pred_instances
    assert out.keypoints.shape == (1, 17, 2)
    assert out.keypoints_3d.shape == (1, 17, 3)
    assert out.stage_keypoints_3d.shape == (1, 1, 17, 3)
    maps = estimator.backbone(torch.zeros(1, 3, 368, 368))
    assert [tuple(m.shape) for m in maps] == [(1, 17, 46, 46)] * 2
