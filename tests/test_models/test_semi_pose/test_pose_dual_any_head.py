"""PoseDual/PoseCons with every top-down head family of mmpose (SimCC/RTMPose, regression,
RLE, integral, DSNT): codec consistency targets, score weighting, the ensemble, Joint Cutout at
decoded joints, the response, export, EMA, the stage-2 pipeline switch and bad inputs. Small
real mmpose models on CPU."""
import copy
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from mmssl_testing import REPO_ROOT, load_semi_pose_cfg

SIMCC_DUAL = 'posedual/synthetic/posedual_rtmpose-t_synthetic-body-first100-128x96.py'
INPUT = (64, 96)  # (w, h): CSPNeXt's stride 32 gives a 2 x 3 feature map


def simcc_codec(**kwargs):
    return dict(dict(type='SimCCLabel', input_size=INPUT, sigma=(2., 2.5),
                     simcc_split_ratio=2.0, normalize=False, use_dark=False), **kwargs)


def rtmpose(num_keypoints=17, codec=None):
    """A tiny RTMPose: CSPNeXt (1/8 width) + RTMCCHead with a small GAU."""
    codec = codec or simcc_codec()
    return dict(
        type='TopdownPoseEstimator',
        data_preprocessor=dict(type='PoseDataPreprocessor', mean=[0., 0., 0.],
                               std=[1., 1., 1.]),
        backbone=dict(_scope_='mmdet', type='CSPNeXt', arch='P5', expand_ratio=0.5,
                      deepen_factor=0.167, widen_factor=0.125, out_indices=(4, ),
                      channel_attention=True, norm_cfg=dict(type='BN'),
                      act_cfg=dict(type='SiLU')),
        head=dict(type='RTMCCHead', in_channels=128, out_channels=num_keypoints,
                  input_size=codec['input_size'], in_featuremap_size=(2, 3),
                  simcc_split_ratio=codec['simcc_split_ratio'], final_layer_kernel_size=3,
                  gau_cfg=dict(hidden_dims=32, s=16, expansion_factor=2, dropout_rate=0.,
                               drop_path=0., act_fn='SiLU', use_rel_bias=False,
                               pos_enc=False),
                  loss=dict(type='KLDiscretLoss', use_target_weight=True, beta=10.,
                            label_softmax=True),
                  decoder=codec),
        test_cfg=dict(flip_test=False))


def resnet_est(head):
    return dict(type='TopdownPoseEstimator',
                data_preprocessor=dict(type='PoseDataPreprocessor', mean=[0., 0., 0.],
                                       std=[1., 1., 1.]),
                backbone=dict(type='ResNet', depth=18, base_channels=8, stem_channels=8),
                neck=None, head=head, test_cfg=dict(flip_test=False))


def regression(kind):
    reg = dict(type='RegressionLabel', input_size=INPUT)
    integral = dict(type='IntegralRegressionLabel', input_size=INPUT, heatmap_size=(8, 12),
                    sigma=1.0, normalize=True)
    heads = dict(
        regression=dict(type='RegressionHead', in_channels=64, num_joints=17,
                        loss=dict(type='SmoothL1Loss', use_target_weight=True), decoder=reg),
        rle=dict(type='RLEHead', in_channels=64, num_joints=17,
                 loss=dict(type='RLELoss', use_target_weight=True), decoder=reg),
        integral=dict(type='IntegralRegressionHead', in_channels=64, in_featuremap_size=(2, 3),
                      num_joints=17, deconv_out_channels=(16, 16), deconv_kernel_sizes=(4, 4),
                      loss=dict(type='SmoothL1Loss', use_target_weight=True),
                      decoder=integral),
        dsnt=dict(type='DSNTHead', in_channels=64, in_featuremap_size=(2, 3), num_joints=17,
                  deconv_out_channels=(16, 16), deconv_kernel_sizes=(4, 4),
                  loss=dict(type='MultipleLossWrapper', losses=[
                      dict(type='SmoothL1Loss', use_target_weight=True),
                      dict(type='JSDiscretLoss', use_target_weight=True)]),
                  decoder=integral))
    est = resnet_est(heads[kind])
    if kind in ('regression', 'rle'):
        est['neck'] = dict(type='GlobalAveragePooling')
    return est


def build(estimator, **kwargs):
    from mmpose.registry import MODELS
    import mmssl  # noqa: F401
    init_default_scope('mmpose')
    kwargs.setdefault('type', 'PoseDual')
    return MODELS.build(dict(estimator=estimator, **kwargs))


def translation(b, dx, dy):
    mat = torch.eye(3).repeat(b, 1, 1)
    mat[:, 0, 2], mat[:, 1, 2] = dx, dy
    return mat


# ---------------------------------------------------------------------- codec encoding
@pytest.mark.parametrize('codec', [
    simcc_codec(), simcc_codec(normalize=True), simcc_codec(sigma=3.),
    simcc_codec(smoothing_type='standard'),
    simcc_codec(smoothing_type='standard', label_smooth_weight=0.1)])
def test_simcc_batch_encoding_is_the_codecs(codec):
    """The batched SimCC labels equal mmpose's SimCCLabel.encode, also off the input."""
    model = build(rtmpose(codec=codec))
    cc, mmpose_codec = model._codecs[0], model.net1.head.decoder
    gen = torch.Generator().manual_seed(0)
    kpts = torch.rand(3, 17, 2, generator=gen) * torch.tensor([90., 130.]) - 15
    (tx, ty), w = cc.encode(kpts, torch.ones(3, 17))
    for n in range(3):
        ref = mmpose_codec.encode(kpts[n:n + 1].numpy())
        torch.testing.assert_close(tx[n], torch.from_numpy(ref['keypoint_x_labels'][0]))
        torch.testing.assert_close(ty[n], torch.from_numpy(ref['keypoint_y_labels'][0]))
        torch.testing.assert_close(w[n], torch.from_numpy(ref['keypoint_weights'][0]))
    assert 0 < w.sum() < w.numel()  # some keypoints fell off the input


def test_dsnt_heatmap_target_is_the_codecs():
    model = build(regression('dsnt'))
    cc, codec = model._codecs[0], model.net1.head.decoder
    kpts = torch.rand(2, 17, 2, generator=torch.Generator().manual_seed(1)) * 70 - 3
    (labels, heatmaps), w = cc.encode(kpts, torch.ones(2, 17))
    for n in range(2):
        ref = codec.encode(kpts[n:n + 1].numpy())
        torch.testing.assert_close(labels[n], torch.from_numpy(ref['keypoint_labels'][0]))
        torch.testing.assert_close(heatmaps[n], torch.from_numpy(ref['heatmaps']),
                                   atol=1e-6, rtol=1e-4)
        torch.testing.assert_close(w[n], torch.from_numpy(ref['keypoint_weights'][0]))


# ---------------------------------------------------------------------- targets
def _teacher_and_target(model, images, hard):
    teacher = model._teacher_pass(images, None)[1]
    logs = {}
    x, (target, weights) = model._codec_target(0, 1, teacher, images, hard, None,
                                               torch.Generator(), logs)
    return teacher, x, target, weights, logs


@pytest.mark.parametrize('shift', [(0., 0.), (6., -4.)])
def test_simcc_target_decodes_to_the_teachers_keypoints_moved(shift):
    """Identity: the target decodes to the teacher's keypoints; a known shift moves them by
    the shift (SimCC bins of 1 / split ratio = 0.5 px)."""
    torch.manual_seed(0)
    model = build(rtmpose(), hard_affine=None)
    model.eval()
    images = torch.randn(2, 3, INPUT[1], INPUT[0])
    hard = translation(2, *shift)
    teacher, x, target, weights, logs = _teacher_and_target(model, images, hard)
    cc = model._codecs[1]
    kpts, scores = cc.decode(teacher)
    decoded, _ = model._codecs[0].decode(target)
    moved = kpts + torch.tensor(shift)
    keep = weights > 0
    assert keep.any()
    torch.testing.assert_close(decoded[keep], moved[keep], atol=0.5, rtol=0)
    # the hard view is the images moved by the same shift
    dx, dy = int(shift[0]), int(shift[1])
    torch.testing.assert_close(x[..., 10 + dy:20 + dy, 10 + dx:20 + dx],
                               images[..., 10:20, 10:20], atol=1e-4, rtol=0)
    assert torch.isclose(logs['response_net2'], scores.mean())


@pytest.mark.parametrize('kind', ['regression', 'rle', 'integral', 'dsnt'])
def test_regression_target_is_the_teachers_keypoints_moved(kind):
    torch.manual_seed(0)
    model = build(regression(kind), hard_affine=None)
    images = torch.randn(2, 3, INPUT[1], INPUT[0])
    teacher, _, target, weights, logs = _teacher_and_target(model, images,
                                                            translation(2, 3., 5.))
    kpts, scores = model._codecs[1].decode(teacher)
    torch.testing.assert_close(target[0] * torch.tensor(INPUT, dtype=torch.float),
                               kpts + torch.tensor([3., 5.]), atol=1e-4, rtol=1e-4)
    inside = model._codecs[0].in_bounds(kpts + torch.tensor([3., 5.]))
    torch.testing.assert_close(weights, torch.where(inside, scores.clamp(0, 1), 0.))
    assert ('response_net2' in logs) == (kind != 'regression')
    if kind == 'rle':  # the RLE score from the sigmoid-ed sigma, as RLEHead.predict decodes
        torch.testing.assert_close(scores, 1 - teacher[..., 2:].sigmoid().mean(-1))


def test_score_threshold_zeroes_weak_teacher_keypoints_and_weights_the_loss():
    torch.manual_seed(0)
    model = build(rtmpose(), hard_affine=None)
    images = torch.randn(2, 3, INPUT[1], INPUT[0])
    teacher = model._teacher_pass(images, None)[1]
    _, scores = model._codecs[1].decode(teacher)
    thr = float(scores.median())
    model.score_thr = thr
    _, _, target, weights, _ = _teacher_and_target(model, images, torch.eye(3).repeat(2, 1, 1))
    expected = torch.where(scores >= thr, scores.clamp(0, 1), 0.)
    torch.testing.assert_close(weights, expected)
    assert 0 < int((weights == 0).sum()) < weights.numel()
    # the student loss is the head's loss_module with those weights
    pred = model.net1(images, None, mode='tensor')
    loss = model._consistency_loss('net1', images, (target, weights))['unsup_net1_loss']
    ref = model.net1.head.loss_module(pred, target, weights)
    torch.testing.assert_close(loss, ref)
    zero = model._consistency_loss('net1', images, (target, weights * 0))['unsup_net1_loss']
    assert float(zero) == 0. and float(loss) > 0


def test_joint_cutout_is_centred_on_the_teachers_decoded_joints():
    torch.manual_seed(0)
    model = build(rtmpose(), hard_affine=None,
                  joint_cutout=dict(num_joints=5, jitter=0., half_size_range=(2., 2.),
                                    reference_height=INPUT[1]))
    images = torch.ones(2, 3, INPUT[1], INPUT[0])
    teacher, x, _, _, _ = _teacher_and_target(model, images, torch.eye(3).repeat(2, 1, 1))
    joints, _ = model._codecs[1].decode(teacher)
    for n in range(2):
        cut = (x[n].abs().sum(0) < 1e-4).nonzero().flip(-1).float()  # (x, y) of zeros
        assert len(cut) > 0
        dist = (cut[:, None] - joints[n][None]).abs().amax(-1).amin(-1)
        assert float(dist.max()) <= 2.


# ---------------------------------------------------------------------- ensemble
def test_simcc_ensemble_averages_the_simcc_vectors():
    torch.manual_seed(0)
    model = build(rtmpose())
    model.eval()
    images = torch.randn(2, 3, INPUT[1], INPUT[0])
    samples = _samples(2)
    out = model.predict_modes_at_once(images, samples, ['net1', 'net2', 'ensemble'])
    with torch.no_grad():
        x1, y1 = model.net1(images, None, mode='tensor')
        x2, y2 = model.net2(images, None, mode='tensor')
    ref = model.net1.head.decode(((x1 + x2) / 2, (y1 + y2) / 2))
    ens = out['ensemble'][0].pred_instances
    np.testing.assert_allclose(ens.keypoints, ref[0].keypoints)
    np.testing.assert_allclose(ens.keypoint_scores, ref[0].keypoint_scores, rtol=1e-6)
    # and each network's mode is its own mmpose prediction
    plain = model.net1.predict(images, copy.deepcopy(samples))
    np.testing.assert_allclose(out['net1'][1].pred_instances.keypoints,
                               plain[1].pred_instances.keypoints)


def test_regression_ensemble_is_the_score_weighted_mean_of_coordinates():
    torch.manual_seed(0)
    model = build(regression('rle'))
    model.eval()
    images = torch.randn(2, 3, INPUT[1], INPUT[0])
    out = model.predict_modes_at_once(images, _samples(2), ['net1', 'net2', 'ensemble'])
    p1, p2 = (out[n][0].pred_instances for n in ('net1', 'net2'))
    w1, w2 = p1.keypoint_scores[..., None], p2.keypoint_scores[..., None]
    ref = (p1.keypoints * w1 + p2.keypoints * w2) / (w1 + w2)
    np.testing.assert_allclose(out['ensemble'][0].pred_instances.keypoints, ref, rtol=1e-5)
    assert not np.allclose(p1.keypoints, p2.keypoints)


def _samples(n):
    from mmengine.structures import InstanceData
    from mmpose.structures import PoseDataSample
    out = []
    for _ in range(n):
        s = PoseDataSample(metainfo=dict(input_size=INPUT, input_center=np.array([32., 48.]),
                                         input_scale=np.array([64., 96.]),
                                         flip_indices=list(range(17))))
        s.gt_instances = InstanceData(bboxes=np.array([[0., 0., 64., 96.]]),
                                      bbox_scores=np.ones(1))
        out.append(s)
    return out


# ---------------------------------------------------------------------- heads train
@pytest.mark.parametrize('kind', ['rtmpose', 'regression', 'rle', 'integral', 'dsnt'])
def test_every_head_family_trains_a_step(kind):
    from mmengine.optim import OptimWrapper
    torch.manual_seed(0)
    est = rtmpose() if kind == 'rtmpose' else regression(kind)
    model = build(est, joint_cutout=dict())
    model.train()
    images = torch.randn(2, 3, INPUT[1], INPUT[0])
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    before = [p.detach().clone() for p in model.net2.parameters()]
    logs, terms = model._loss_terms(dict(unsup_teacher=images), {})
    losses = {}
    for _, term in terms:
        losses.update(term())
    loss = sum(losses.values())
    assert torch.isfinite(loss) and set(losses) == {'unsup_net1_loss', 'unsup_net2_loss'}
    optim.update_params(loss)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.net2.parameters()))
    assert ('response_net1' in logs) == (kind != 'regression')


# ---------------------------------------------------------------------- bad input
def test_bad_estimators_are_refused_with_the_model_named():
    from mmpose.codecs import RegressionLabel
    from mmpose.registry import KEYPOINT_CODECS

    @KEYPOINT_CODECS.register_module(force=True)
    class DecodeOnlyRegressionLabel(RegressionLabel):
        def encode(self, keypoints, keypoints_visible=None):
            raise NotImplementedError('decode only')

    est = regression('regression')
    est['head']['decoder'] = dict(type='DecodeOnlyRegressionLabel', input_size=INPUT)
    with pytest.raises(TypeError, match=r'PoseDual: the codec of net1 \(TopdownPoseEstimator '
                       r'with RegressionHead, codec DecodeOnlyRegressionLabel\) cannot encode'):
        build(est)
    with pytest.raises(ValueError, match=r'different keypoint counts \(net1 RTMCCHead: 17, '
                       r'net2 RTMCCHead: 14\)'):
        build(rtmpose(), estimator2=rtmpose(num_keypoints=14))
    bottom_up = dict(
        type='BottomupPoseEstimator',
        backbone=dict(type='ResNet', depth=18, base_channels=8, stem_channels=8),
        head=dict(type='AssociativeEmbeddingHead', in_channels=64, num_keypoints=17,
                  tag_dim=1, tag_per_keypoint=True, deconv_out_channels=None,
                  keypoint_loss=dict(type='KeypointMSELoss'),
                  tag_loss=dict(type='AssociativeEmbeddingLoss', loss_weight=0.001),
                  decoder=dict(type='AssociativeEmbedding', input_size=(64, 64),
                               heatmap_size=(16, 16), sigma=1, decode_keypoint_order=list(
                                   range(17)))))
    with pytest.raises(TypeError, match=r'PoseCons needs top-down estimators .* net1 is '
                       'BottomupPoseEstimator with AssociativeEmbeddingHead'):
        build(bottom_up, type='PoseCons')


# ---------------------------------------------------------------------- runner level
def _simcc_cfg(synthetic_body, tmp_path, iters=2):
    cfg = load_semi_pose_cfg(SIMCC_DUAL, synthetic_body, tmp_path, tiny=False)
    est = cfg.model.estimator
    est.backbone.widen_factor = 0.125
    est.head.in_channels = 128
    est.head.gau_cfg.update(hidden_dims=32, s=16)
    cfg.model.unsup_start_iter = 0
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=iters)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=iters, by_epoch=False)
    cfg.custom_hooks[-1]['interval'] = 1
    return cfg


def test_rtmpose_posedual_trains_logs_response_and_exports_net1(synthetic_body, tmp_path):
    """Real iterations through the runner (with RTMPose's EMA on the PoseDual model), the
    SimCC response of both networks logged, net1/net2/ensemble evaluated, and net1 exported
    to a plain mmpose model that predicts what net1 predicts."""
    cfg = _simcc_cfg(synthetic_body, tmp_path)
    cfg.custom_hooks.append(dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.2,
                                 update_buffers=True, priority=49))
    runner = Runner.from_cfg(cfg)
    runner.train()
    hub = runner.message_hub.log_scalars
    for key in ('sup_net1_loss_kpt', 'sup_net2_loss_kpt', 'unsup_net1_loss', 'unsup_net2_loss',
                'response_net1', 'response_net2'):
        assert f'train/{key}' in hub, key
    scalars = open(runner.visualizer.get_backend('LocalVisBackend')._scalar_save_file).read()
    assert '"response/net1"' in scalars and '"ensemble/coco/AP"' in scalars
    assert '"net2/coco/AP"' in scalars
    ckpt_path = tmp_path / 'iter_2.pth'
    ckpt = torch.load(ckpt_path, weights_only=True)
    # EMAHook swapped: state_dict holds the EMA (averaged) weights of both networks
    key = 'net1.head.final_layer.weight'
    assert not torch.equal(ckpt['state_dict'][key], ckpt['ema_state_dict'][f'module.{key}'])
    cfg_path = str(tmp_path / 'dual.py')
    cfg.dump(cfg_path)
    out = subprocess.run([sys.executable, str(REPO_ROOT / 'tools/misc/extract_submodel.py'),
                          cfg_path, str(ckpt_path), '--module', 'net1', '--out',
                          str(tmp_path / 'net1')], cwd=REPO_ROOT, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    from mmpose.apis import inference_topdown, init_model
    plain = init_model(str(tmp_path / 'net1.py'), str(tmp_path / 'net1.pth'), device='cpu')
    assert type(plain).__name__ == 'TopdownPoseEstimator'
    torch.testing.assert_close(plain.head.final_layer.weight, ckpt['state_dict'][key])
    img = str(synthetic_body / 'images/val/000001.jpg')
    box = [[10, 10, 90, 120]]
    exported = inference_topdown(plain, img, bboxes=box)[0].pred_instances
    dual = runner.model
    dual.load_state_dict(ckpt['state_dict'])
    dual.predict_on = 'net1'
    # the wrapper's net1 with the same weights, through mmpose's inference api
    ref = inference_topdown(_as_plain(dual.net1, plain), img, bboxes=box)[0].pred_instances
    np.testing.assert_allclose(exported.keypoints, ref.keypoints)
    np.testing.assert_allclose(exported.keypoint_scores, ref.keypoint_scores, rtol=1e-6)


def _as_plain(net, plain):
    net.cfg, net.dataset_meta = plain.cfg, plain.dataset_meta
    return net.eval()


def test_stage2_pipeline_switch_reaches_the_labeled_source(synthetic_body, tmp_path):
    cfg = _simcc_cfg(synthetic_body, tmp_path)
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=2, val_interval=10)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True)]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=10)
    labeled = cfg.train_dataloader.dataset.datasets[0]
    stage2 = copy.deepcopy(labeled.pipeline)
    stage2.insert(-2, dict(type='RandomFlip', direction='horizontal', prob=0.))  # a marker
    cfg.custom_hooks.append(dict(type='SourcePipelineSwitchHook', switch_epoch=1,
                                 switch_pipeline=stage2))
    runner = Runner.from_cfg(cfg)
    runner.train()
    pipeline = runner.train_dataloader.dataset.datasets[0].pipeline
    assert [type(t).__name__ for t in pipeline.transforms].count('RandomFlip') == 2
    unlabeled = runner.train_dataloader.dataset.datasets[1].pipeline
    assert [type(t).__name__ for t in unlabeled.transforms].count('RandomFlip') == 1
    # mmdet's hook would set the ConcatDataset's (unused) pipeline: refused
    cfg.custom_hooks[-1] = dict(type='mmdet.PipelineSwitchHook', switch_epoch=1,
                                switch_pipeline=stage2)
    cfg.work_dir = str(tmp_path / 'mmdet_hook')
    with pytest.raises(RuntimeError, match='the switch would silently do nothing'):
        Runner.from_cfg(cfg).train()


def test_rtmpose_posedual_under_two_process_ddp(synthetic_body, tmp_path):
    """tools/dist_train.sh with 2 CPU processes (gloo) on the SimCC PoseDual config."""
    cfg = _simcc_cfg(synthetic_body, tmp_path / 'd')
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.train_cfg.val_interval = 10
    cfg.default_hooks.checkpoint.pop('save_best', None)
    cfg_path = str(tmp_path / 'dual.py')
    cfg.dump(cfg_path)
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1',
               PORT=str(29300 + os.getpid() % 300))
    proc = subprocess.run(['bash', str(REPO_ROOT / 'tools/dist_train.sh'), cfg_path, '2',
                           '--work-dir', str(tmp_path / 'd')], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'Distributed training: True' in proc.stdout + proc.stderr
    state = torch.load(tmp_path / 'd/iter_2.pth', weights_only=True)['state_dict']
    assert 'net2.head.final_layer.weight' in state
