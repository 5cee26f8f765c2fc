"""tools/misc/extract_submodel.py: every network of every regime exports as a plain model.

Per regime, a config of the project is shrunk by the config smoke harness
(``smoke_config``), trained for its short smoke schedule by a real mmengine Runner (or the
self-training runner), exported, and the export is loaded by the unchanged tools:
``tools/test.py`` (its ``main()``), ``mmpose.apis.init_model`` + ``inference_topdown`` or
``mmdet.apis.init_detector`` + ``inference_detector``. The exported weights must be the
sub-network's weights of the original checkpoint, bit for bit.
"""
import importlib.util
import json
import sys
from pathlib import Path
from typing import Dict, Optional, Tuple

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmssl_testing import FIXTURES, REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / 'tests' / 'test_configs'))
from test_config_smoke import smoke_config  # noqa: E402

POSEDUAL = 'posedual/synthetic/posedual_res18-w32_synthetic-body-first100-128x96.py'
POSECONS = 'posedual/synthetic/posecons-same_res18-w32_synthetic-body-first100-128x96.py'
ADVERSARIAL = ('adversarial_aug/synthetic/'
               'adv-aug_res18-w16_stage3-asr-aho_synthetic-body-64x64.py')
CI_SSOD = 'ci_ssod/synthetic/ci-ssod_soft-teacher_r18-tiny_synthetic.py'
LIFTING = 'lifting/cpm-lift_1xb16-60e_synthetic-h36m-128x128.py'
STLD = 'stld/synthetic/stld-hm_res18-w16_1xb16-30e_synthetic-faces-l30-128x128.py'
COCO_IMAGE = str(sorted(FIXTURES.glob('coco/*.jpg'))[0])
FACE_IMAGE = str(sorted(FIXTURES.glob('300w/*.png'))[0])


def _tool(script: str):
    spec = importlib.util.spec_from_file_location(Path(script).stem, REPO_ROOT / script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXTRACT = _tool('tools/misc/extract_submodel.py')


@pytest.fixture
def unformatted_config_text(monkeypatch):
    """Skip mmengine's yapf pass over config text (Runner log, checkpoint meta, dumps): seconds
    per call on this CPU, whitespace only. The PoseDual test keeps the formatted path."""
    monkeypatch.setattr('mmengine.config.config.FormatCode', lambda text, **_: (text, None))


def _run_tool(script: str, args: list, monkeypatch) -> None:
    """``main()`` of a tools/ script with ``args`` as its command line, in this process."""
    monkeypatch.setattr(sys, 'argv', [script, *map(str, args)])
    monkeypatch.setenv('LOCAL_RANK', '0')
    _tool(script).main()


def _tools_test(cfg_path: str, ckpt_path: str, tmp_path: Path, monkeypatch,
                work_dir: Optional[str] = None) -> Dict[str, float]:
    """Metrics of ``tools/test.py CONFIG CKPT`` (its ``--out`` file)."""
    out = tmp_path / f'metrics_{Path(cfg_path).stem}_{Path(ckpt_path).stem}.json'
    _run_tool('tools/test.py', [cfg_path, ckpt_path, '--work-dir',
                                work_dir or tmp_path / 'test', '--out', out], monkeypatch)
    return json.loads(out.read_text())


def _trained(rel_path: str, tmp_path: Path) -> Tuple[str, str]:
    """The smoke-sized config (dumped to a file) and the last Runner checkpoint of its smoke
    schedule."""
    cfg = smoke_config(rel_path, tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter > 0
    last = tmp_path / 'work' / 'last_checkpoint'
    if last.is_file():  # the config's own CheckpointHook saved the last iteration
        ckpt = last.read_text().strip()
    else:
        runner.save_checkpoint(str(tmp_path), 'trained.pth')
        ckpt = str(tmp_path / 'trained.pth')
    cfg_path = str(tmp_path / 'config.py')
    cfg.dump(cfg_path)
    del runner
    return cfg_path, ckpt


def _state(path: str) -> Dict[str, torch.Tensor]:
    return torch.load(path, map_location='cpu', weights_only=True)['state_dict']


def _assert_same_weights(exported: Dict[str, torch.Tensor], original: Dict[str, torch.Tensor],
                         prefix: str, exclude: Tuple[str, ...] = ()) -> None:
    """``exported`` is exactly ``original``'s weights under ``prefix`` (prefix stripped)."""
    expected = {k[len(prefix):]: v for k, v in original.items()
                if k.startswith(prefix) and not k[len(prefix):].startswith(exclude)}
    assert expected and sorted(exported) == sorted(expected)
    for key, value in expected.items():
        assert torch.equal(exported[key], value), key


def _assert_plain(cfg_path: str) -> Config:
    """Plain loops and no training or wrapper parts in an exported config."""
    cfg = Config.fromfile(cfg_path)
    assert cfg.test_cfg.type == 'TestLoop'
    assert cfg.get('val_cfg') is None or cfg.val_cfg.type == 'ValLoop'
    for key in ('runner_type', 'self_training', 'model_wrapper_cfg', 'train_dataloader',
                'optim_wrapper', 'train_cfg', 'custom_hooks'):
        assert key not in cfg, key
    text = Path(cfg_path).read_text()
    for wrapper_only in ('MultiBranch', 'MultiModel', 'TeacherStudent', 'MixedRatioSampler'):
        assert wrapper_only not in text, wrapper_only
    return cfg


def _loaded_weights_match(model: torch.nn.Module, exported: Dict[str, torch.Tensor]) -> None:
    state = model.state_dict()
    for key, value in exported.items():
        assert torch.equal(state[key].cpu(), value), key


def _topdown(cfg_path: str, ckpt_path: str, image: str, bboxes=None):
    """``init_model`` + ``inference_topdown`` on ``image``: the model and the result."""
    from mmpose.apis import inference_topdown, init_model
    model = init_model(cfg_path, ckpt_path, device='cpu')
    results = inference_topdown(model, image, bboxes=bboxes)
    return model, results[0].pred_instances


#: full-size model-zoo configs of every regime: (config, network, exported model type)
ZOO = [
    ('posedual/coco-wild/posedual_hrnet-w48_8xb8-300e_coco-wild-384x288.py', 'net2',
     'TopdownPoseEstimator'),
    ('posedual/coco/posecons-jc_res18_8xb8-70e_coco-1k-256x192.py', 'net1',
     'TopdownPoseEstimator'),
    ('adversarial_aug/mpii/adv-aug_hourglass52_stage3-asr-aho_8xb24-200e_mpii-256x256.py',
     'pose', 'TopdownPoseEstimator'),
    ('ci_ssod/ci-ssod_soft-teacher_faster-rcnn_r50-caffe_fpn_180k_coco-split1.py', 'teacher',
     'FasterRCNN'),
    ('ci_ssod/ci-ssod_semi-base_faster-rcnn_r50-caffe_fpn_180k_coco-split1.py', 'student',
     'FasterRCNN'),
    ('stld/stld-tf_hrnetv2-w18_1xb16-360e_300w-5pct-256x256.py', 'final',
     'TopdownPoseEstimator'),
]


@pytest.mark.parametrize('rel_path,module,model_type', ZOO)
def test_zoo_configs_have_plain_exports(rel_path, module, model_type):
    """The model-zoo configs themselves (not shrunk): plain loops, the network's own data
    preprocessor and evaluator, nothing of the training wrapper."""
    from mmssl.engine.submodel_export import available_modules, plain_config
    cfg = Config.fromfile(str(REPO_ROOT / 'configs' / rel_path))
    assert module in available_modules(cfg)
    plain = plain_config(cfg, module)
    assert plain.model.type == model_type
    assert 'MultiBranch' not in plain.model.data_preprocessor.type
    assert plain.test_cfg.type == 'TestLoop' and plain.val_cfg.type == 'ValLoop'
    assert plain.test_evaluator == cfg.test_evaluator
    for key in ('runner_type', 'self_training', 'model_wrapper_cfg', 'train_dataloader'):
        assert key not in plain, key


def test_posedual_exports_each_network(tmp_path, monkeypatch, capsys):
    cfg_path, ckpt = _trained(POSEDUAL, tmp_path)
    original = _state(ckpt)
    for name in ('net1', 'net2'):
        out_cfg, out_ckpt = EXTRACT.extract(cfg_path, ckpt, name, str(tmp_path / name))
        _assert_same_weights(_state(out_ckpt), original, f'{name}.')
        cfg = _assert_plain(out_cfg)
        assert cfg.model.type == 'TopdownPoseEstimator'
        assert cfg.model.data_preprocessor.type == 'PoseDataPreprocessor'
    assert not torch.equal(original['net1.head.final_layer.weight'],
                           original['net2.head.final_layer.weight'])
    metrics = _tools_test(tmp_path / 'net2.py', tmp_path / 'net2.pth', tmp_path, monkeypatch)
    assert 'coco/AP' in metrics and 'PCK' in metrics
    assert not any(k.startswith(('net1/', 'ensemble/')) for k in metrics)
    model, pred = _topdown(str(tmp_path / 'net1.py'), str(tmp_path / 'net1.pth'), COCO_IMAGE,
                           bboxes=[[10, 10, 120, 150]])
    assert pred.keypoints.shape == (1, 17, 2)
    _loaded_weights_match(model, _state(str(tmp_path / 'net1.pth')))
    # an unknown network: a clear error naming the ones there are (CLI: exit status 2)
    with pytest.raises(SystemExit) as exc:
        _run_tool('tools/misc/extract_submodel.py',
                  [cfg_path, ckpt, '--module', 'teacher', '--out', tmp_path / 'x'],
                  monkeypatch)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "no network 'teacher'" in err and 'net1' in err and 'net2' in err
    assert not (tmp_path / 'x.py').exists()


def test_posecons_has_only_net1(tmp_path):
    from mmssl.engine.submodel_export import ExportError, available_modules, plain_config
    cfg = smoke_config(POSECONS, tmp_path)
    assert list(available_modules(cfg)) == ['net1']
    plain = plain_config(cfg)
    assert plain.model.type == 'TopdownPoseEstimator'
    assert plain.model.backbone == cfg.model.estimator.backbone
    with pytest.raises(ExportError, match=r"no network 'net2'; available modules: net1"):
        EXTRACT.extract(cfg, 'unused.pth', 'net2', str(tmp_path / 'net2'))


@pytest.mark.usefixtures('unformatted_config_text')
def test_adversarial_exports_the_pose_network(tmp_path, monkeypatch):
    cfg_path, ckpt = _trained(ADVERSARIAL, tmp_path)
    out_cfg, out_ckpt = EXTRACT.extract(cfg_path, ckpt, None, str(tmp_path / 'pose'))
    exported = _state(out_ckpt)
    _assert_same_weights(exported, _state(ckpt), 'pose.')
    assert not any(k.startswith('augmenter') for k in exported)
    assert _assert_plain(out_cfg).model.type == 'TopdownPoseEstimator'
    metrics = _tools_test(out_cfg, out_ckpt, tmp_path, monkeypatch)
    assert 'coco/AP' in metrics and 'PCK' in metrics
    model, pred = _topdown(out_cfg, out_ckpt, COCO_IMAGE)
    assert pred.keypoints.shape == (1, 17, 2)
    _loaded_weights_match(model, exported)


@pytest.mark.usefixtures('unformatted_config_text')
def test_ci_ssod_exports_teacher_and_student(tmp_path, monkeypatch):
    from mmdet.apis import inference_detector, init_detector
    from mmdet.models import FasterRCNN
    cfg_path, ckpt = _trained(CI_SSOD, tmp_path)
    original = _state(ckpt)
    paths = {name: EXTRACT.extract(cfg_path, ckpt, module, str(tmp_path / name))
             for name, module in (('teacher', None), ('student', 'student'))}
    for name, (out_cfg, out_ckpt) in paths.items():
        _assert_same_weights(_state(out_ckpt), original, f'{name}.')
        cfg = _assert_plain(out_cfg)
        assert cfg.model.type == 'FasterRCNN'
        assert cfg.model.data_preprocessor.type == 'DetDataPreprocessor'
    assert not torch.equal(original['teacher.rpn_head.rpn_cls.weight'],
                           original['student.rpn_head.rpn_cls.weight'])  # EMA teacher
    metrics = _tools_test(*paths['teacher'], tmp_path, monkeypatch)
    assert 'coco/bbox_mAP' in metrics and 'coco/bbox_mAP_min' in metrics
    predictions = {}
    for name, (out_cfg, out_ckpt) in paths.items():
        model = init_detector(out_cfg, out_ckpt, device='cpu')
        assert type(model) is FasterRCNN
        assert model.dataset_meta['classes'] == tuple(Config.fromfile(cfg_path)
                                                      .test_dataloader.dataset.metainfo.classes)
        result = inference_detector(model, COCO_IMAGE)
        assert result.pred_instances.bboxes.shape[1] == 4
        _loaded_weights_match(model, _state(out_ckpt))
        # the plain detector predicts exactly what the CI-SSOD model's network predicts
        ci_model = init_detector(cfg_path, ckpt, device='cpu',
                                 cfg_options={'model.semi_test_cfg.predict_on': name})
        assert type(ci_model).__name__ == 'CISoftTeacher'
        expected = inference_detector(ci_model, COCO_IMAGE).pred_instances
        got = result.pred_instances
        assert len(expected) > 0 and len(got) == len(expected)
        assert torch.equal(got.labels, expected.labels)
        torch.testing.assert_close(got.scores, expected.scores, rtol=0, atol=0)
        torch.testing.assert_close(got.bboxes, expected.bboxes, rtol=0, atol=0)
        predictions[name] = got
    # and the two exports are the two networks (an EMA teacher is not its student)
    assert not torch.equal(predictions['teacher'].scores, predictions['student'].scores)


@pytest.mark.usefixtures('unformatted_config_text')
def test_lifting_exports_the_2d_network(tmp_path, monkeypatch):
    cfg_path, ckpt = _trained(LIFTING, tmp_path)
    out_cfg, out_ckpt = EXTRACT.extract(cfg_path, ckpt, None, str(tmp_path / 'pose2d'))
    exported = _state(out_ckpt)
    _assert_same_weights(exported, _state(ckpt), '', exclude=('own_lifter.', ))
    cfg = _assert_plain(out_cfg)
    assert cfg.model.type == 'TopdownPoseEstimator' and cfg.model.backbone.type == 'LiftingCPM'
    metrics = _tools_test(out_cfg, out_ckpt, tmp_path, monkeypatch)
    assert 'PCK' in metrics and 'EPE' in metrics
    model, pred = _topdown(out_cfg, out_ckpt, COCO_IMAGE)
    assert pred.keypoints.shape == (1, 17, 2)
    _loaded_weights_match(model, exported)
    # the same 2D prediction as the 3D estimator's own 2D output (the 3D pose beside it)
    _, pred3d = _topdown(cfg_path, ckpt, COCO_IMAGE)
    assert pred3d.keypoints_3d.shape == (1, 17, 3)
    torch.testing.assert_close(torch.as_tensor(pred.keypoints),
                               torch.as_tensor(pred3d.keypoints))
    from mmssl.engine.submodel_export import plain_config
    pose3d = plain_config(Config.fromfile(cfg_path), 'pose3d')
    assert pose3d.model.type == 'LiftingTopdownPoseEstimator'
    assert [m['type'] for m in pose3d.test_evaluator] == [
        'LiftingMPJPE', 'LiftingMPJPE', 'LiftingStageMPJPE', 'PCKAccuracy', 'EPE',
        'LiftingStagePCK']


@pytest.mark.usefixtures('unformatted_config_text')
def test_stld_exports_the_final_model_and_test_py_honours_runner_type(tmp_path, monkeypatch):
    from mmssl.engine.submodel_export import ExportError
    cfg = smoke_config(STLD, tmp_path / 'work')
    cfg.self_training.update(num_rounds=1, curriculum=[])  # the whole job, one round
    work_dir = tmp_path / 'work'
    with pytest.raises(ExportError, match='final_model.pth does not exist: .* not finished'):
        EXTRACT.extract(cfg, str(work_dir), None, str(tmp_path / 'early'))
    records = RUNNERS.build(cfg).train()
    cfg_path = str(tmp_path / 'stld.py')
    cfg.dump(cfg_path)
    out_cfg, out_ckpt = EXTRACT.extract(cfg_path, str(work_dir), None, str(tmp_path / 'final'))
    exported = _state(out_ckpt)
    _assert_same_weights(exported, _state(str(work_dir / 'final_model.pth')), '')
    _assert_same_weights(exported, _state(records['round1_mixed']['weights']), '')
    assert _assert_plain(out_cfg).model.head.type == 'STLDHeatmapHead'
    assert 'dataset_meta' in torch.load(out_ckpt, weights_only=True)['meta']
    final_eval = records['round1_eval']['metrics']
    metrics = _tools_test(out_cfg, out_ckpt, tmp_path, monkeypatch)
    assert metrics['NME'] == pytest.approx(final_eval['NME'])
    # tools/test.py on the self-training config itself: built through RUNNERS, its test()
    metrics = _tools_test(cfg_path, str(work_dir / 'final_model.pth'), tmp_path, monkeypatch,
                          work_dir=str(work_dir))
    assert metrics['NME'] == pytest.approx(final_eval['NME'])
    model, pred = _topdown(out_cfg, out_ckpt, FACE_IMAGE)
    assert pred.keypoints.shape == (1, 68, 2)
    _loaded_weights_match(model, exported)


def test_test_py_names_the_export_for_a_runner_without_test(tmp_path, monkeypatch):
    class TrainOnlyRunner:
        def __init__(self, cfg: Config) -> None:
            self.cfg = cfg

        @classmethod
        def from_cfg(cls, cfg: Config) -> 'TrainOnlyRunner':
            return cls(cfg)

    name = 'TrainOnlyRunnerOfTestExtractSubmodel'
    RUNNERS.register_module(name=name, module=TrainOnlyRunner)
    try:
        cfg_path = tmp_path / 'train_only.py'
        cfg_path.write_text(f'runner_type = {name!r}\nwork_dir = {str(tmp_path)!r}\n')
        with pytest.raises(TypeError, match=r'has no test\(\); export .*extract_submodel.py '
                           rf'{cfg_path} ckpt.pth --out OUT'):
            _run_tool('tools/test.py', [cfg_path, 'ckpt.pth'], monkeypatch)
    finally:
        RUNNERS._module_dict.pop(name, None)
