"""ASR / AHO pipeline transforms against the batch-tensor versions (same draws, same
result), the distribution file format, and its export from a trained G."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.registry import init_default_scope
from mmpose.datasets.transforms import GetBBoxCenterScale, PackPoseInputs, TopdownAffine
from mmpose.registry import MODELS

from mmssl.datasets.transforms import BinnedOcclusionCells, BinnedScaleRotation
from mmssl.datasets.transforms.augmentation_distribution import (DistributionFileError,
                                                                 export_distribution,
                                                                 load_distribution,
                                                                 save_distribution)
from mmssl.models.augmenters import (AugmentationBins, cells_from_order, occlusion_mask,
                                     scale_rotation_matrices)
from mmssl.models.augmenters.adversarial_steps import AdversarialStepsMixin
from mmssl.models.semi_pose.batch_augment import apply_to_points

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'test_adversarial_aug'))
from adv_helpers import BRIDGE, tiny_resnet_estimator  # noqa: E402


def _person(seed=0):
    rng = np.random.default_rng(seed)
    return dict(img=rng.integers(0, 255, (240, 200, 3), dtype=np.uint8),
                bbox=np.array([[40., 30., 150., 210.]], np.float32),
                keypoints=rng.uniform(60, 140, (1, 10, 2)).astype(np.float32),
                keypoints_visible=np.ones((1, 10), np.float32))


# ------------------------------------------------------------------ ASR
def test_bin_values_agree_with_the_batch_tensor_draw():
    t = BinnedScaleRotation()
    gen = torch.Generator().manual_seed(3)
    idx = torch.tensor([0, 3, 6])
    batch = t.scale_bins.values(idx, gen)
    noise = torch.randn(3, generator=torch.Generator().manual_seed(3))
    for i in range(3):
        s, _ = t.values(int(idx[i]), float(noise[i]), 0, 0.)
        assert s == pytest.approx(float(batch[i]), abs=1e-6)


@pytest.mark.parametrize('scale,rot', [(1.3, 25.), (0.8, -40.), (1., 0.)])
def test_pipeline_crop_equals_the_batch_warp_of_the_standard_crop(scale, rot):
    """TopdownAffine after the transform maps the keypoints where scale_rotation_matrices
    maps the standard crop's keypoints (the batch-tensor ASR's geometry)."""
    size = (96, 128)
    std = TopdownAffine(input_size=size)(GetBBoxCenterScale()(_person()))
    aug = GetBBoxCenterScale()(_person())
    aug = BinnedScaleRotation().apply_values(aug, scale, rot)
    aug = TopdownAffine(input_size=size)(aug)
    mat = scale_rotation_matrices(torch.tensor([scale]), torch.tensor([rot]), size)
    expect = apply_to_points(mat, torch.as_tensor(std['transformed_keypoints'])).numpy()
    # mmpose's crop puts the box centre at (w / 2, h / 2), the batch warp turns about the
    # pixel-grid centre ((w - 1) / 2, (h - 1) / 2): the maps differ by (I - A) * 0.5 px
    a = mat[0, :2, :2].numpy()
    shift = (np.eye(2) - a) @ np.array([0.5, 0.5])
    np.testing.assert_allclose(aug['transformed_keypoints'], expect + shift, atol=1e-3)
    assert np.abs(aug['transformed_keypoints'] - expect).max() < 0.5


def test_file_distribution_is_followed(tmp_path):
    path = str(tmp_path / 'g.json')
    bins = AugmentationBins.build(dict(num=3, low=-0.5, high=0.5, sigma=0.)).to_dict()
    rbins = dict(means=[-30., 0., 30.], sigma=0., log2=False)
    save_distribution(path, scale=dict(bins, probs=[0, 0, 1]),
                      rotation=dict(rbins, probs=[1, 0, 0]), source='test')
    t = BinnedScaleRotation(path)
    np.random.seed(0)
    for _ in range(5):
        out = t(GetBBoxCenterScale()(_person()))
        np.testing.assert_allclose(out['asr_values'], [0.5, -30.])
        np.testing.assert_array_equal(out['asr_bins'], [2, 0])
    with pytest.raises(ValueError, match='come from the distribution file'):
        BinnedScaleRotation(path, scale_probs=[1, 1, 1])


def test_uniform_draws_cover_every_bin():
    np.random.seed(1)
    t = BinnedScaleRotation()
    seen = {tuple(t(GetBBoxCenterScale()(_person()))['asr_bins']) for _ in range(300)}
    assert {s for s, _ in seen} == set(range(7)) and {r for _, r in seen} == set(range(9))


# ------------------------------------------------------------------ AHO
def test_cell_mask_agrees_with_the_batch_tensor_rule():
    probs = torch.softmax(torch.randn(4, 16), -1)
    gen = torch.Generator().manual_seed(5)
    steps = AdversarialStepsMixin()
    steps.num_cells = (1, 2)
    batch = steps.sample_cells(probs, gen)
    gen = torch.Generator().manual_seed(5)
    order = torch.multinomial(probs, 2, replacement=False, generator=gen)
    counts = torch.randint(1, 3, (4, ), generator=gen)
    t = BinnedOcclusionCells(num_cells=(1, 2))
    batch_masks = occlusion_mask(batch, (4, 4))
    for b in range(4):
        mask = t.mask_from_draw(order[b].numpy(), int(counts[b]))
        np.testing.assert_array_equal(mask, batch_masks[b].numpy())
        np.testing.assert_array_equal(
            mask, occlusion_mask(cells_from_order(order[b:b + 1], counts[b:b + 1], 16),
                                 (4, 4))[0].numpy())


def test_occlusion_follows_the_file_and_is_packed(tmp_path):
    path = str(tmp_path / 'g.json')
    probs = np.zeros(16)
    probs[[5, 10]] = 1
    save_distribution(path, occlusion=dict(grid=[4, 4], probs=probs.tolist()))
    t = BinnedOcclusionCells(path, num_cells=(2, 2))
    pack = PackPoseInputs(meta_keys=('id', 'img_shape', 'occlusion_mask'))
    np.random.seed(0)
    res = TopdownAffine(input_size=(64, 64))(GetBBoxCenterScale()(_person()))
    packed = pack(t(res))
    mask = packed['data_samples'].metainfo['occlusion_mask']
    expect = np.ones((4, 4), np.float32)
    expect.reshape(-1)[[5, 10]] = 0
    np.testing.assert_array_equal(mask, expect)
    with pytest.raises(ValueError, match='non-zero cells'):
        BinnedOcclusionCells(probs=[1] + [0] * 15, num_cells=(2, 2))


# ------------------------------------------------------------------ file format
def test_distribution_file_errors_name_the_file(tmp_path):
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps(dict(format='other', version=1)))
    with pytest.raises(DistributionFileError, match='bad.json'):
        load_distribution(str(bad))
    bad.write_text(json.dumps(dict(format='mmssl.augmentation_distribution', version=1,
                                   occlusion=dict(grid=[4, 4], probs=[1, 2]))))
    with pytest.raises(DistributionFileError, match='16'):
        load_distribution(str(bad))
    with pytest.raises(FileNotFoundError, match='missing.json'):
        load_distribution(str(tmp_path / 'missing.json'))


def test_export_from_a_trained_augmentation_network(tmp_path):
    init_default_scope('mmpose')
    model = MODELS.build(ConfigDict(type='AdversarialPoseEstimator',
                                    estimator=tiny_resnet_estimator(17, 64), bridge=BRIDGE,
                                    augmenter=dict(channels=8)))
    inputs = torch.randn(3, 3, 64, 64)
    path = str(tmp_path / 'g.json')
    data = export_distribution(model, [inputs, inputs[:1]], path, source='unit test')
    loaded = load_distribution(path)
    assert loaded['source'] == 'unit test; mean over 4 images'
    model.eval()  # the export runs G in eval mode
    with torch.no_grad():
        logits = model.augmenter(model.capture_bridge(torch.cat([inputs, inputs[:1]])))
    for key, block in (('scale', 'scale'), ('rotation', 'rotation'), ('occlusion', 'occlusion')):
        np.testing.assert_allclose(loaded[block]['probs'],
                                   torch.softmax(logits[key], -1).mean(0).numpy(), atol=1e-5)
    assert loaded['scale']['means'] == data['scale']['means']
    assert loaded['occlusion']['grid'] == [4, 4]
    # the transforms read the exported file
    BinnedScaleRotation(path)
    BinnedOcclusionCells(path)
