"""STLD's release augmentation as MMPose transforms (configs/stld/_base_/stld_release_pipeline.py)."""
import copy
import json
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config
from mmpose.registry import DATASETS
from mmpose.utils import register_all_modules
from PIL import Image, ImageFilter

import mmssl  # noqa: F401  (registers the transforms)
from mmssl.datasets.transforms import (RandomGaussianBlur, RandomOcclusionBox,
                                       UniformBBoxTransform)
from stld_helpers import HM_CONFIG, REPO_ROOT, single_thread  # noqa: F401

register_all_modules(init_default_scope=True)
FIXTURES = REPO_ROOT.parent / 'shared' / 'fixtures'


def _box_results(n=1, scale=200.):
    return dict(bbox_center=np.full((n, 2), 100., np.float32),
                bbox_scale=np.full((n, 2), scale, np.float32))


def test_uniform_bbox_transform_draws_the_release_distributions():
    np.random.seed(0)
    t = UniformBBoxTransform()  # release defaults: 30 px of 256, 30 deg, p 0.5 each
    shifts, rots = [], []
    for _ in range(4000):
        out = t(_box_results(scale=256.))
        shifts.append(out['bbox_center'][0] - 100.)
        rots.append(out['bbox_rotation'][0])
        assert (out['bbox_scale'] == 256.).all()  # no scaling in the release
    shifts, rots = np.array(shifts), np.array(rots)
    moved, turned = np.abs(shifts).sum(1) > 0, rots != 0
    assert abs(moved.mean() - 0.5) < 0.05 and abs(turned.mean() - 0.5) < 0.05
    assert np.abs(shifts).max() <= 30. and np.abs(rots).max() <= 30.
    # uniform, not truncated-normal: a third of the rotations beyond 20 deg (truncnorm: ~14 %)
    assert abs((np.abs(rots[turned]) > 20).mean() - 1 / 3) < 0.05
    assert abs((np.abs(shifts[moved]) > 20).mean() - 1 / 3) < 0.05


@pytest.mark.parametrize('kwargs, message', [
    (dict(shift_prob=1.5), 'shift_prob'), (dict(rotate_factor=-1), 'rotate_factor'),
    (dict(scale_factor=(1.2, 1.0)), 'scale_factor')])
def test_uniform_bbox_transform_refuses_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        UniformBBoxTransform(**kwargs)


def _crop_results(rot=0., size=64):
    img = np.zeros((size, size, 3), np.uint8)
    return dict(img=img, input_center=np.array([50., 50.], np.float32),
                input_scale=np.array([100., 100.], np.float32),
                bbox_rotation=np.array([rot], np.float32), input_size=(size, size),
                keypoints=np.ones((1, 3, 2), np.float32))


def _expected_box(seed, size=64, max_size=0.4, margin=10):
    np.random.seed(seed)
    np.random.rand()
    u = np.random.rand(7)
    h, w = int(size * max_size * u[0]), int(size * max_size * u[1])
    x0, y0 = int((size - w - margin) * u[2]), int((size - h - margin) * u[3])
    return x0, y0, w, h, [int(v * 255) for v in u[4:]]


def _painted(img):
    ys, xs = np.nonzero(img.any(axis=2))
    return xs, ys


def test_occlusion_box_is_the_release_box_on_an_unrotated_crop():
    seed = next(s for s in range(100) if min(_expected_box(s)[2:4]) > 4)
    x0, y0, w, h, colour = _expected_box(seed)
    np.random.seed(seed)
    out = RandomOcclusionBox(prob=1.0)(_crop_results())
    xs, ys = _painted(out['img'])
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (x0, x0 + w, y0, y0 + h)
    assert out['img'][y0 + h // 2, x0 + w // 2].tolist() == colour
    assert (out['keypoints'] == 1).all()  # labels untouched, as in the release
    assert w <= 0.4 * 64 and h <= 0.4 * 64


def test_occlusion_box_turns_with_the_view():
    seed = next(s for s in range(200) if _expected_box(s)[2] > 2 * _expected_box(s)[3] > 8)
    x0, y0, w, h, _ = _expected_box(seed)
    np.random.seed(seed)
    out = RandomOcclusionBox(prob=1.0)(_crop_results(rot=90.))
    xs, ys = _painted(out['img'])
    # a quarter turn about the crop centre swaps the box's width and height
    assert abs((xs.max() - xs.min()) - h) <= 1 and abs((ys.max() - ys.min()) - w) <= 1
    # and moves its centre to the rotated position (either sense: mmpose's convention)
    c = np.array([x0 + w / 2 - 32, y0 + h / 2 - 32])
    got = np.array([(xs.max() + xs.min()) / 2 - 32, (ys.max() + ys.min()) / 2 - 32])
    assert min(np.abs(got - [c[1], -c[0]]).max(), np.abs(got - [-c[1], c[0]]).max()) <= 1


def test_occlusion_box_needs_the_affine_first_and_can_be_off():
    res = _crop_results()
    del res['input_center']
    with pytest.raises(KeyError, match='after TopdownAffine'):
        RandomOcclusionBox(prob=1.0)(res)
    out = RandomOcclusionBox(prob=0.0)(_crop_results())
    assert not out['img'].any()
    with pytest.raises(ValueError, match='max_size'):
        RandomOcclusionBox(max_size=0)


def test_gaussian_blur_is_pils_filter_with_the_drawn_radius():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
    np.random.seed(3)
    np.random.rand()
    radius = np.random.rand() * 2.0
    np.random.seed(3)
    out = RandomGaussianBlur(prob=1.0)(dict(img=img.copy()))['img']
    want = np.asarray(Image.fromarray(img).filter(ImageFilter.GaussianBlur(radius)))
    np.testing.assert_array_equal(out, want)
    assert not np.array_equal(out, img)
    same = RandomGaussianBlur(prob=0.0)(dict(img=img.copy()))['img']
    np.testing.assert_array_equal(same, img)
    with pytest.raises(TypeError, match='uint8'):
        RandomGaussianBlur(prob=1.0, max_radius=1.)(dict(img=img.astype(np.float32)))


def test_grayscale_is_torchvisions_luma_on_bgr_images():
    """torchvision's RandomGrayscale (the release's last training transform): L = 0.299 R +
    0.587 G + 0.114 B in all three channels; MMPose images are BGR."""
    from mmpose.registry import TRANSFORMS
    base = Config.fromfile(str(REPO_ROOT / 'configs/stld/_base_/stld_release_pipeline.py'))
    gray = TRANSFORMS.build(dict(base.stld_release_crop_augment[-1], prob=1.0))
    img = np.zeros((3, 4, 3), np.uint8)
    img[..., 0], img[..., 1], img[..., 2] = 10, 100, 200  # B, G, R
    out = gray(dict(img=img.copy()))['img']
    assert out.shape == img.shape
    np.testing.assert_allclose(out[..., 0], 0.299 * 200 + 0.587 * 100 + 0.114 * 10, atol=1)
    assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()


def test_configs_use_the_release_pipeline_in_the_release_order():
    base = Config.fromfile(str(REPO_ROOT / 'configs/stld/_base_/stld_release_pipeline.py'))
    assert base.stld_release_crop_padding == 1.1
    flip, box = base.stld_release_box_augment
    assert (flip.type, flip.prob) == ('RandomFlip', 0.5)
    assert (box.shift_factor * 256, box.shift_prob, box.rotate_factor, box.rotate_prob) == \
        (30., 0.5, 30., 0.5)
    occ, blur, gray = base.stld_release_crop_augment
    assert (occ.prob, occ.max_size, blur.prob, blur.max_radius) == (0.5, 0.4, 0.3, 2.0)
    assert (gray.type, gray.prob, gray.keep_channels) == ('RandomGrayscale', 0.2, True)
    cfg = Config.fromfile(str(HM_CONFIG))
    types = [t.type for t in cfg.train_dataloader.dataset.pipeline]
    assert types == ['LoadImage', 'GetBBoxCenterScale', 'RandomFlip', 'UniformBBoxTransform',
                     'TopdownAffine', 'RandomOcclusionBox', 'RandomGaussianBlur',
                     'RandomGrayscale', 'GenerateTarget', 'PackPoseInputs']
    for loader in (cfg.train_dataloader, cfg.test_dataloader):  # train and test crop alike
        pads = [t.padding for t in loader.dataset.pipeline if t.type == 'GetBBoxCenterScale']
        assert pads == [1.1]


def test_release_pipeline_on_real_300w_faces():
    """The HM config's train pipeline on the 300W fixture: a 1.1x crop of MMPose's box,
    flips that permute the landmarks, heatmap targets at the input's scale."""
    cfg = Config.fromfile(str(HM_CONFIG))
    ds_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    ds_cfg.update(data_root=str(FIXTURES / '300w'), ann_file='test_300w.json',
                  data_prefix=dict(img=''))
    dataset = DATASETS.build(ds_cfg)
    ann = json.loads((FIXTURES / '300w' / 'test_300w.json').read_text())['annotations'][0]
    np.random.seed(0)
    seen_flip = False
    for _ in range(8):
        sample = dataset[0]
        meta = sample['data_samples'].metainfo
        assert sample['inputs'].shape[-2:] == (256, 256)
        np.testing.assert_allclose(meta['input_scale'], [ann['scale'] * 200 * 1.1] * 2,
                                   rtol=1e-5)
        seen_flip |= bool(meta['flip'])
    assert seen_flip
