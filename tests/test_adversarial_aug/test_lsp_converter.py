"""tools/misc/lsp_joints_mat_to_coco.py on small LSP / LSP-extended archives written with
scipy.io.savemat (both layouts, both visibility conventions), read back by the LSP configs'
CocoDataset + metainfo, and the torso PCK the LSP configs evaluate."""
import importlib.util
import json

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image
from scipy.io import savemat

from adv_helpers import REPO_ROOT

LSP_BASE = REPO_ROOT / 'configs/adversarial_aug/_base_/adv-aug_hourglass52_lsp-256x256.py'
METAINFO = REPO_ROOT / 'configs/adversarial_aug/_base_/datasets/lsp.py'


def _tool():
    spec = importlib.util.spec_from_file_location(
        'lsp_joints_mat_to_coco', REPO_ROOT / 'tools/misc/lsp_joints_mat_to_coco.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _archive(folder, joints_nk3, kind, sizes):
    """joints_nk3: [N, 14, 3] with (x, y, visible as 1/0); written in the kind's layout and
    visibility convention."""
    (folder / 'images').mkdir(parents=True)
    for i, (w, h) in enumerate(sizes):
        name = f'im{i + 1:04d}.jpg' if kind == 'lsp' else f'im{i + 1:05d}.jpg'
        Image.new('RGB', (w, h), (90, 60, 30)).save(folder / 'images' / name)
    j = joints_nk3.astype(np.float64).copy()
    if kind == 'lsp':
        j[..., 2] = 1 - j[..., 2]  # LSP: 0 = visible
        mat = np.transpose(j, (2, 1, 0))  # 3 x 14 x N
    else:
        mat = np.transpose(j, (1, 2, 0))  # 14 x 3 x N
    savemat(str(folder / 'joints.mat'), {'joints': mat})


def _people(n, rng, w=80, h=100):
    joints = np.zeros((n, 14, 3))
    joints[..., 0] = rng.uniform(10, w - 10, size=(n, 14))
    joints[..., 1] = rng.uniform(10, h - 10, size=(n, 14))
    joints[..., 2] = 1
    return joints


@pytest.fixture
def converted(tmp_path):
    rng = np.random.RandomState(0)
    lsp = _people(4, rng)
    lsp[0, 9, :2] = (31., 17.)  # left shoulder of the first person
    lsp[0, 2, :2] = (40., 63.)  # its right hip
    lsp[0, 7, 2] = 0  # right elbow occluded
    lsp[0, 0, :2] = (-1., -1.)  # right ankle without a location
    ext = _people(2, rng)
    ext[1, 13, 2] = 0  # head top occluded in LSP-extended
    root = tmp_path / 'images'
    _archive(root / 'lsp_dataset', lsp, 'lsp', [(80, 100), (90, 120), (80, 100), (85, 110)])
    _archive(root / 'lspet_dataset', ext, 'lspet', [(80, 100), (100, 100)])
    out = tmp_path / 'annotations'
    _tool().main(['--lsp', str(root / 'lsp_dataset'), '--lspet', str(root / 'lspet_dataset'),
                  '--image-root', str(root), '--out-dir', str(out), '--train-count', '2'])
    return tmp_path, lsp, ext


def test_known_joints_visibility_sizes_and_splits(converted):
    tmp_path, lsp, ext = converted
    train = json.loads((tmp_path / 'annotations/lsp_train.json').read_text())
    test = json.loads((tmp_path / 'annotations/lsp_test.json').read_text())
    assert [i['file_name'] for i in train['images']] == [
        'lsp_dataset/images/im0001.jpg', 'lsp_dataset/images/im0002.jpg',
        'lspet_dataset/images/im00001.jpg', 'lspet_dataset/images/im00002.jpg']
    assert [i['file_name'] for i in test['images']] == [
        'lsp_dataset/images/im0003.jpg', 'lsp_dataset/images/im0004.jpg']
    assert [(i['width'], i['height']) for i in train['images']] == [
        (80, 100), (90, 120), (80, 100), (100, 100)]
    ids = [i['id'] for i in train['images'] + test['images']]
    assert len(set(ids)) == 6
    first = np.array(train['annotations'][0]['keypoints']).reshape(14, 3)
    names = train['categories'][0]['keypoints']
    assert first[names.index('left_shoulder')].tolist() == [31., 17., 2]  # LSP flag 0
    assert first[names.index('right_hip')].tolist() == [40., 63., 2]
    assert first[names.index('right_elbow'), 2] == 1  # LSP flag 1: occluded, labelled
    assert first[names.index('right_ankle')].tolist() == [0, 0, 0]  # no location
    assert train['annotations'][0]['num_keypoints'] == 13
    ext_kp = np.array(train['annotations'][3]['keypoints']).reshape(14, 3)
    assert ext_kp[names.index('head_top'), 2] == 1  # LSP-extended flag 0: occluded
    assert ext_kp[names.index('neck'), 2] == 2  # flag 1: visible
    x, y, w, h = train['annotations'][0]['bbox']
    labelled = first[first[:, 2] > 0, :2]
    assert x <= labelled[:, 0].min() and x + w >= labelled[:, 0].max()
    assert y <= labelled[:, 1].min() and y + h >= labelled[:, 1].max()
    assert x >= 0 and y >= 0 and x + w <= 79 and y + h <= 99


def test_the_lsp_configs_read_it_and_measure_the_torso_pck(converted):
    """CocoDataset + the LSP metainfo of the configs reads the files; the configs' evaluator
    (PCKAccuracy torso) normalises by left shoulder - right hip, and save_best / the plateau
    monitor name its key."""
    from mmengine.registry import init_default_scope
    from mmpose.registry import DATASETS, METRICS
    tmp_path, lsp, _ = converted
    cfg = Config.fromfile(str(LSP_BASE))
    assert cfg.val_evaluator == dict(type='PCKAccuracy', thr=0.2, norm_item='torso')
    assert cfg.default_hooks.checkpoint.save_best == 'tPCK'
    names = [Config.fromfile(str(METAINFO)).dataset_info.keypoint_info[i]['name']
             for i in range(14)]
    tool = _tool()
    assert names == [tool.LSP_JOINTS[j] for j in tool.FILE_ORDER]
    assert names[4:6] == ['left_shoulder', 'right_hip']
    init_default_scope('mmpose')
    ds_cfg = cfg.val_dataloader.dataset.to_dict()
    ds_cfg.update(data_root=str(tmp_path), ann_file='annotations/lsp_train.json',
                  data_prefix=dict(img='images/'), pipeline=[],
                  metainfo=dict(from_file=str(METAINFO)))
    dataset = DATASETS.build(ds_cfg)
    assert len(dataset) == 4
    info = dataset[0]
    np.testing.assert_allclose(info['keypoints'][0, 4], [31., 17.])
    np.testing.assert_allclose(info['keypoints'][0, 5], [40., 63.])
    assert info['keypoints_visible'][0].tolist() == [0.] + [1.] * 13
    metric = METRICS.build(cfg.val_evaluator)
    metric.dataset_meta = dataset.metainfo
    gt = info['keypoints']
    torso = np.linalg.norm(gt[0, 4] - gt[0, 5])
    pred = gt.copy()
    pred[0, 1] += [0.19 * torso, 0]  # within 0.2 torso
    pred[0, 2] += [0.21 * torso, 0]  # beyond
    sample = dict(pred_instances=dict(keypoints=pred),
                  gt_instances=dict(keypoints=gt, keypoints_visible=info['keypoints_visible'],
                                    bboxes=info['bbox']))
    metric.process([], [sample])
    result = metric.evaluate(1)
    assert result == {'tPCK': pytest.approx(12 / 13)}


def test_bad_input_names_the_file(tmp_path):
    tool = _tool()
    rng = np.random.RandomState(1)
    folder = tmp_path / 'images' / 'lsp_dataset'
    _archive(folder, _people(3, rng), 'lspet', [(80, 100)] * 3)  # the other layout
    with pytest.raises(ValueError, match=r'joints\.mat: joints must be 3 x 14 x N for --lsp'
                       r'.*got 14 x 3 x 3; is this a --lspet file'):
        tool.main(['--lsp', str(folder), '--image-root', str(tmp_path / 'images'),
                   '--out-dir', str(tmp_path / 'out')])
    savemat(str(folder / 'joints.mat'), {'points': np.zeros((3, 14, 3))})
    with pytest.raises(KeyError, match='no variable "joints"'):
        tool.load_joints(str(folder / 'joints.mat'), 'lsp')
    _archive(tmp_path / 'images' / 'short', _people(3, rng), 'lsp', [(80, 100)] * 2)
    with pytest.raises(FileNotFoundError, match=r'im0003\.jpg is missing'):
        tool.main(['--lsp', str(tmp_path / 'images' / 'short'), '--image-root',
                   str(tmp_path / 'images'), '--out-dir', str(tmp_path / 'out')])
    assert not (tmp_path / 'out').exists()  # nothing half written
