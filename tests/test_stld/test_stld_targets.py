"""Mixed-training data: each source gets its own heatmap sigma and its source tag."""
import json
import math

import numpy as np
import pytest
from mmpose.registry import DATASETS, TRANSFORMS
from mmpose.utils import register_all_modules

from mmssl.engine.runners.self_training_configs import (labeled_dataset, oversampled,
                                                        pseudo_dataset)
from stld_helpers import make_face_data, single_thread, tiny_cfg  # noqa: F401

register_all_modules(init_default_scope=True)


def _sigma_of(heatmaps: np.ndarray) -> list:
    """sigma of MSRA heatmaps: the Gaussian is centred on a pixel, so a neighbour of the
    peak holds exp(-1 / (2 sigma^2))."""
    out = []
    for hm in heatmaps:
        y, x = np.unravel_index(np.argmax(hm), hm.shape)
        if hm[y, x] < 0.99 or not (0 < x < hm.shape[1] - 1):
            continue  # keypoint off the map or on its border
        out.append(math.sqrt(-1.0 / (2 * math.log(hm[y, x + 1]))))
    return out


def test_heatmap_targets_use_the_sigma_of_their_source(tmp_path):
    data = make_face_data(tmp_path, num_train=5, num_labeled=2)
    cfg = tiny_cfg(data, tmp_path / 'work')
    labeled = labeled_dataset(cfg)
    # a pseudo-label file is a COCO file of the unlabeled images with keypoints: use GT here
    unl = json.loads(open(data['unlabeled']).read())
    full = {a['id']: a for a in json.loads(open(data['train']).read())['annotations']}
    unl['annotations'] = [full[a['id']] for a in unl['annotations']]
    pseudo_file = tmp_path / 'pseudo.json'
    pseudo_file.write_text(json.dumps(unl))
    pseudo = pseudo_dataset(labeled, labeled, str(pseudo_file), source_aware=True, sigma=2.2)
    mixed = DATASETS.build(dict(type='ConcatDataset',
                                datasets=[oversampled(labeled, 2, 4), pseudo]))
    assert len(mixed) == 4 + 3  # labeled repeated to 4, then 3 pseudo-labeled
    sigmas = {'labeled': [], 'pseudo': []}
    for i in range(len(mixed)):
        sample = mixed[i]['data_samples']
        source = sample.metainfo.get('stld_source', 'labeled')
        assert source == ('labeled' if i < 4 else 'pseudo')
        sigmas[source] += _sigma_of(sample.gt_fields.heatmaps.numpy())
    assert len(sigmas['labeled']) > 50 and len(sigmas['pseudo']) > 50
    np.testing.assert_allclose(sigmas['labeled'], 1.5, rtol=1e-3)  # sigma_std
    np.testing.assert_allclose(sigmas['pseudo'], 2.2, rtol=1e-3)  # sigma_t of the round


def test_source_tag_needs_packed_sample():
    with pytest.raises(ValueError, match='source must be one of'):
        TRANSFORMS.build(dict(type='STLDSetSource', source='teacher'))
    with pytest.raises(KeyError, match='after PackPoseInputs'):
        TRANSFORMS.build(dict(type='STLDSetSource'))(dict(img=None))
