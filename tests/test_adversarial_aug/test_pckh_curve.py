"""tools/analysis/plot_pckh_curve.py on a real prediction dump of an MPII config (fixture
MPII images with head boxes, the as-shipped harness's tiny hourglass): its PCKh@0.5/0.1 are
mmpose's MpiiPCKAccuracy ``PCK`` / ``PCK@0.1`` on the same predictions."""
import importlib.util
import pickle
import sys

import numpy as np
import pytest

from adv_helpers import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / 'tests' / 'test_configs'))
from as_shipped import smoke_config  # noqa: E402

CONFIG = 'adversarial_aug/mpii/adv-aug_hourglass52_stage3-random_8xb24-200e_mpii-256x256.py'


def _tool():
    spec = importlib.util.spec_from_file_location(
        'plot_pckh_curve', REPO_ROOT / 'tools/analysis/plot_pckh_curve.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _mmpose_mpii(samples):
    from mmpose.evaluation import MpiiPCKAccuracy
    metric = MpiiPCKAccuracy()
    metric.process([], samples)
    return metric.evaluate(len(samples))


def _noisy(path, tmp_path):
    """The dump with ground truth + N(0, 0.3 head size) as predictions."""
    with open(path, 'rb') as f:
        samples = pickle.load(f)
    rng = np.random.RandomState(0)
    for s in samples:
        gt = s['gt_instances']
        head = float(np.asarray(gt['head_size']).reshape(-1)[0])
        noise = rng.normal(0, 0.3 * head, size=gt['keypoints'].shape)
        s['pred_instances']['keypoints'] = gt['keypoints'] + noise - 1.  # MPII 1-based
    out = tmp_path / 'noisy.pkl'
    with open(out, 'wb') as f:
        pickle.dump(samples, f)
    return samples, out


@pytest.fixture(scope='module')
def dump(tmp_path_factory):
    from mmengine.runner import Runner
    tmp = tmp_path_factory.mktemp('pckh_dump')
    cfg = smoke_config(CONFIG, tmp)
    out = tmp / 'preds.pkl'
    cfg.test_evaluator = [dict(type='MpiiPCKAccuracy'),
                          dict(type='DumpResults', out_file_path=str(out))]
    metrics = Runner.from_cfg(cfg).test()
    return out, metrics


def test_real_dump_matches_mmpose(dump, tmp_path):
    path, metrics = dump
    png = tmp_path / 'curve.png'
    tables = _tool().main([str(path), '--labels', 'random', '--out', str(png)])
    table = tables['random']
    assert sorted(table) == [0.1, 0.2, 0.3, 0.4, 0.5]
    assert table[0.5]['Mean'] == pytest.approx(metrics['PCK'], abs=1e-4)
    assert table[0.1]['Mean'] == pytest.approx(metrics['PCK@0.1'], abs=1e-4)
    assert png.stat().st_size > 5000


def test_curve_on_informative_predictions_and_two_inputs(dump, tmp_path, capsys):
    """The dump's predictions replaced by ground truth + noise of ~0.3 head sizes: the curve
    rises with the threshold and each value is mmpose's on those predictions."""
    path, _ = dump
    samples, noisy = _noisy(path, tmp_path)
    tables = _tool().main([str(path), str(noisy), '--labels', 'dump', 'noisy', '--out',
                           str(tmp_path / 'two.png')])
    printed = capsys.readouterr().out
    assert '| noisy | 0.5 |' in printed and '| dump | 0.1 |' in printed
    curve = [tables['noisy'][t]['Mean'] for t in (0.1, 0.2, 0.3, 0.4, 0.5)]
    assert curve == sorted(curve) and curve[-1] > curve[0] and curve[-1] > 50
    expected = _mmpose_mpii(samples)
    assert tables['noisy'][0.5]['Mean'] == pytest.approx(expected['PCK'], abs=1e-4)
    assert tables['noisy'][0.1]['Mean'] == pytest.approx(expected['PCK@0.1'], abs=1e-4)
    assert tables['noisy'][0.5]['Head'] == pytest.approx(expected['Head PCK'], abs=1e-4)


def test_headbox_file_and_bad_input(dump, tmp_path):
    from scipy.io import savemat
    samples, path = _noisy(dump[0], tmp_path)
    heads = [float(np.asarray(s['gt_instances']['head_size']).reshape(-1)[0]) for s in samples]
    for s in samples:
        del s['gt_instances']['head_size']
    bare = tmp_path / 'bare.pkl'
    with open(bare, 'wb') as f:
        pickle.dump(samples, f)
    tool = _tool()
    with pytest.raises(ValueError, match='no gt_instances.head_size'):
        tool.main([str(bare), '--out', str(tmp_path / 'x.png')])
    boxes = np.zeros((2, 2, len(heads)))  # square head boxes with the same head sizes
    side = np.asarray(heads) / tool.SC_BIAS / np.sqrt(2)
    boxes[1] = side[None].repeat(2, 0)
    savemat(str(tmp_path / 'hb.mat'), {'headboxes_src': boxes})
    with_file = tool.main([str(bare), '--headbox-file', str(tmp_path / 'hb.mat'), '--out',
                           str(tmp_path / 'y.png')])
    direct = tool.main([str(path), '--out', str(tmp_path / 'z.png')])
    for thr, row in direct['noisy'].items():
        assert with_file['bare'][thr] == pytest.approx(row)
    assert direct['noisy'][0.5]['Mean'] > 50
    savemat(str(tmp_path / 'short.mat'), {'headboxes_src': boxes[:, :, :1]})
    with pytest.raises(ValueError, match=r'short\.mat: 1 head boxes for'):
        tool.main([str(bare), '--headbox-file', str(tmp_path / 'short.mat')])
    (tmp_path / 'junk.pkl').write_bytes(pickle.dumps({'a': 1}))
    with pytest.raises(ValueError, match=r'junk\.pkl: expected a non-empty list'):
        tool.main([str(tmp_path / 'junk.pkl')])
