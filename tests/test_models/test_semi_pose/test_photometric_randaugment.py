import numpy as np
import pytest

from mmssl.datasets.transforms import PhotometricRandAugment
from mmssl.datasets.transforms.photometric_randaugment import OPS


@pytest.mark.parametrize('op', list(OPS))
def test_each_op_changes_pixels_not_geometry(op):
    rng = np.random.default_rng(0)
    img = rng.integers(30, 220, size=(64, 48, 3), dtype=np.uint8)
    img[:, :24] //= 2  # some structure for contrast/equalize/sharpness
    results = dict(img=img.copy(), keypoints=np.ones((1, 17, 2)), bbox=np.ones((1, 4)),
                   warp_mat=np.eye(3))
    out = PhotometricRandAugment(num_ops=1, magnitude=20, ops=[op])(dict(results))
    assert out['img'].shape == img.shape and out['img'].dtype == np.uint8
    assert not np.array_equal(out['img'], img), op
    for key in ('keypoints', 'bbox', 'warp_mat'):
        assert np.array_equal(out[key], results[key])


def test_magnitude_mapping_and_validation():
    t = PhotometricRandAugment(magnitude=20)
    assert t.value('Solarize') == pytest.approx(20 / 30 * 256)
    assert t.value('Color') == pytest.approx(0.6)
    with pytest.raises(ValueError, match='unknown RandAugment ops'):
        PhotometricRandAugment(ops=['Rotate'])
