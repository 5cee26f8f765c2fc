"""Human3.6M (MMPose's preprocessed format) -> lifting files: frames, subjects, the camera to
model mapping, world poses for the pose model, and refusal of foreign input."""
import importlib.util
import json
import os
import pickle

import numpy as np
import pytest

from lifting_helpers import single_thread  # noqa: F401
from mmssl.datasets.h36m_lifting import (H36MFormatError, camera_to_model, camera_to_world,
                                         load_annotations, load_cameras, parse_imgname)
from mmssl.datasets.synthetic_h36m import make_synthetic_h36m
from mmssl.models.lifting import PosePrior

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def _tool():
    spec = importlib.util.spec_from_file_location(
        'h36m_to_lifting', os.path.join(REPO, 'tools', 'dataset_converters',
                                        'h36m_to_lifting.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_camera_to_model_mapping_with_a_known_rotation_and_point():
    # camera: x right, y down, z forward -> model: x right, depth (= z), up (= -y)
    assert np.allclose(camera_to_model(np.array([1., 2., 3.])), [1., 3., -2.])
    # a camera 4 m along world -y at 1.5 m height looking horizontally at +y (world z up):
    # camera x = world x, camera y (down) = world -z, camera z (forward) = world y
    r_c2w = np.array([[1., 0., 0.], [0., 0., 1.], [0., -1., 0.]])
    cam = dict(R=r_c2w, T=np.array([[0.], [-4.], [1.5]]))
    head_cam = np.array([0.1, -0.2, 4.0])  # 0.1 m right, 0.2 m above the axis, 4 m ahead
    assert np.allclose(camera_to_world(head_cam, cam), [0.1, 0.0, 1.7])
    # in the model frame the same point is 0.1 right, 4 deep, 0.2 up: world up is model up
    assert np.allclose(camera_to_model(head_cam), [0.1, 4.0, 0.2])
    assert parse_imgname('S11/S11_Walking_1.60457274/S11_Walking_1.60457274_000011.jpg') == \
        dict(subject='S11', action='Walking_1', camera='60457274')


def test_look_alike_has_mmpose_h36m_layout_and_consistent_geometry(tmp_path):
    paths = make_synthetic_h36m(str(tmp_path / 'h36m'), frames_per_subject=2, frame_size=96)
    cams = load_cameras(paths['cameras'])
    assert len(cams) == 7 * 4 and ('S9', '54138969') in cams
    train, test = load_annotations(paths['train_npz']), load_annotations(paths['test_npz'])
    assert {parse_imgname(n)['subject'] for n in train['imgname']} == {'S1', 'S5', 'S6', 'S7',
                                                                       'S8'}
    assert {parse_imgname(n)['subject'] for n in test['imgname']} == {'S9', 'S11'}
    for i, name in enumerate(train['imgname'][:6]):
        info = parse_imgname(name)
        cam = cams[(info['subject'], info['camera'])]
        s = train['S'][i, :, :3]
        # pinhole projection of S gives part; S -> world is upright (head above the root)
        uv = cam['f'].T * s[:, :2] / s[:, 2:] + cam['c'].T
        assert np.allclose(uv, train['part'][i, :, :2], atol=1e-6)
        world = camera_to_world(s, cam)
        assert world[10, 2] - world[0, 2] > 0.3
        assert os.path.isfile(os.path.join(paths['images'], name))


def test_converter_writes_protocol_splits_3d_in_mm_and_fits_the_prior(tmp_path):
    root = tmp_path / 'h36m'
    make_synthetic_h36m(str(root), frames_per_subject=3, frame_size=96)
    out = _tool().main([str(root), '--num-charts', '1', '--num-bases', '8'])
    train = json.load(open(out['train_ann']))
    val = json.load(open(out['val_ann']))
    assert out['num_train'] == 5 * 3 * 4 and out['num_val'] == 2 * 3 * 4
    assert {img['subject'] for img in val['images']} == {'S9', 'S11'}
    npz = load_annotations(str(root / 'annotation_body3d/fps10/h36m_train.npz'))
    ann, img = train['annotations'][0], train['images'][0]
    i = list(npz['imgname']).index(img['file_name'])
    # 3D: mm in (x right, depth, up); 2D: the npz's part; box: centre and 200 x scale
    assert np.allclose(ann['keypoints_3d'], camera_to_model(npz['S'][i, :, :3]) * 1000)
    kp3d = np.array(ann['keypoints_3d'])
    assert kp3d[10, 2] > kp3d[0, 2] and kp3d[0, 1] > 1000  # head above root, metres away
    assert np.allclose(np.array(ann['keypoints']).reshape(17, 3)[:, :2], npz['part'][i, :, :2])
    x, y, w, h = ann['bbox']
    assert np.allclose([x + w / 2, y + h / 2, w], [*npz['center'][i], 200 * npz['scale'][i]])
    # pose model on the training subjects' world poses (mm, z up)
    poses = np.load(out['poses3d'])
    assert poses.shape == (60, 17, 3) and (poses[:, 10, 2] > poses[:, 0, 2]).all()
    prior = PosePrior.load(out['prior'])
    assert prior.num_bases == 8 and 700 < prior.scale_mm < 1500


def test_foreign_input_is_refused_naming_the_file(tmp_path):
    bad = tmp_path / 'h36m_train.npz'
    np.savez(bad, imgname=np.array(['a.jpg']), center=np.zeros((1, 2)))
    with pytest.raises(H36MFormatError, match=r"h36m_train.npz: missing arrays \['scale'"):
        load_annotations(str(bad))
    evil = tmp_path / 'cameras.pkl'
    evil.write_bytes(pickle.dumps({('S1', '1'): os.system}))
    with pytest.raises(H36MFormatError, match='cameras.pkl may only hold arrays'):
        load_cameras(str(evil))
    with pytest.raises(H36MFormatError, match="not Human3.6M's"):
        parse_imgname('frame0001.jpg')
