"""Export one network of an mmssl training config as a plain MMPose / MMDetection model.

Every regime trains something that the plain tools cannot load directly: two networks in one
model (PoseDual ``net1``/``net2``), a pose network next to its augmentation network
(``AdversarialPoseEstimator.pose``), an EMA teacher and a student (mmdet
``SemiBaseDetector`` subclasses such as ``CISoftTeacher``), a 3D estimator around a 2D
network (``LiftingTopdownPoseEstimator``) or a multi-stage runner (``SelfTrainingRunner``).
:data:`REGIMES` says, per regime, which model config key builds each network, under which
``state_dict`` prefix its weights are stored and how its plain config differs. The exported
config has mmengine's ``ValLoop``/``TestLoop``, the test pipeline and evaluator of the
network, no training parts (the semi-supervised train pipelines, samplers, optimizers and
hooks need the wrapper) and no ``runner_type``, so ``tools/test.py``,
``mmpose.apis.init_model`` and ``mmdet.apis.init_detector`` load it unchanged.
"""
import copy
import importlib
import os
import os.path as osp
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple, Union

import torch
from mmengine.config import Config, ConfigDict
from mmengine.registry import MODELS, RUNNERS, DefaultScope

from .runners.self_training_configs import eval_loader_and_evaluator, sanitize_loader

#: config keys that only the training wrapper or the multi-stage runner uses
WRAPPER_KEYS = ('runner_type', 'self_training', 'model_wrapper_cfg', 'launcher', 'work_dir',
                'train_dataloader', 'train_cfg', 'optim_wrapper', 'param_scheduler',
                'auto_scale_lr', 'custom_hooks')
#: structured top-level keys that mmengine's Runner, tools/test.py and the mmpose/mmdet
#: apis read; other structured top-level values are helper variables of the training config
#: (pipelines, the wrapper's pieces such as ``estimator``/``detector``) and are dropped
KEPT_KEYS = ('model', 'val_dataloader', 'val_cfg', 'val_evaluator', 'test_dataloader',
             'test_cfg', 'test_evaluator', 'default_hooks', 'env_cfg', 'log_processor',
             'visualizer', 'vis_backends', 'randomness', 'custom_imports', 'data_preprocessor',
             'backend_args', 'tta_model', 'tta_pipeline', 'codec')


def _is_plain_value(value) -> bool:
    """A scalar or a flat list of scalars (``data_root``, ``classes``, ...)."""
    if isinstance(value, (list, tuple)):
        return all(_is_plain_value(v) and not isinstance(v, (list, tuple)) for v in value)
    return value is None or isinstance(value, (str, int, float, bool))


class ExportError(ValueError):
    """A config/checkpoint/module combination that cannot be exported (message says why)."""


@dataclass(frozen=True)
class SubNetwork:
    """One exportable network of a training model.

    Attributes:
        doc: What the network is (shown in listings and errors).
        cfg_key: Key of the network's config under ``cfg.model``; ``''`` for the model
            itself.
        prefix: Prefix of its weights in the checkpoint's ``state_dict`` (``''``: all).
        fallback_key: Config key used when ``cfg_key`` is absent (PoseDual builds ``net2``
            from ``estimator`` unless ``estimator2`` is given).
        exclude: Prefixes (after stripping ``prefix``) of weights that the plain network
            does not have.
        edit: Changes the plain config in place (e.g. the 2D network of LiftingCPM).
    """
    doc: str
    cfg_key: str = ''
    prefix: str = ''
    fallback_key: str = ''
    exclude: Tuple[str, ...] = ()
    edit: Optional[Callable[[Config], None]] = None

    def model_cfg(self, model: ConfigDict) -> Optional[ConfigDict]:
        """The network's model config (a copy), or ``None`` when the config has none."""
        if not self.cfg_key:
            return copy.deepcopy(model)
        sub = model.get(self.cfg_key) or (model.get(self.fallback_key)
                                          if self.fallback_key else None)
        return copy.deepcopy(sub) if sub else None


@dataclass(frozen=True)
class Regime:
    """How to recognise a regime's configs and which networks they hold.

    Attributes:
        name: The regime (for messages).
        model_class: Dotted path of the wrapper model class; configs whose model is this
            class or a subclass match.
        runner_class: Dotted path of a runner class; configs whose ``runner_type`` is this
            class or a subclass match (checked before the model).
        modules: Exportable networks by name.
        default: Network exported when none is asked for, or a function of the config
            giving it.
        resolve_checkpoint: Maps the checkpoint argument to a file (e.g. a work_dir to its
            final model).
    """
    name: str
    modules: Dict[str, SubNetwork]
    default: Union[str, Callable[[Config], str]]
    model_class: str = ''
    runner_class: str = ''
    resolve_checkpoint: Optional[Callable[[str], str]] = None

    def default_module(self, cfg: Config) -> str:
        return self.default(cfg) if callable(self.default) else self.default

    def describe(self) -> str:
        return ', '.join(f'{name} ({sub.doc})' for name, sub in self.modules.items())


# ---------------------------------------------------------------------- regime specifics
def lifting_2d(cfg: Config) -> None:
    """The 2D network of LiftingCPM: mmpose's ``TopdownPoseEstimator`` on the same
    ``LiftingCPM`` backbone and head (identical 2D predictions, the final 3D lifting left
    out), evaluated with 2D keypoint metrics (PCK@0.05 of the box size and EPE in pixels)."""
    model = cfg.model
    model.type = 'TopdownPoseEstimator'
    model.pop('lifter', None)
    for key in ('output_3d', 'lift_score_thr'):
        (model.get('test_cfg') or {}).pop(key, None)
    metrics = [dict(type='PCKAccuracy', thr=0.05, norm_item='bbox'), dict(type='EPE')]
    for key in ('val_evaluator', 'test_evaluator'):
        if cfg.get(key):
            cfg[key] = copy.deepcopy(metrics)


def self_training_final_model(checkpoint: str) -> str:
    """A self-training ``work_dir`` stands for its final model, ``final_model.pth``
    (the last train stage's ``stage_weights.pth``, copied when the job finishes)."""
    if not osp.isdir(checkpoint):
        return checkpoint
    final = osp.join(checkpoint, 'final_model.pth')
    if not osp.isfile(final):
        raise ExportError(f'{final} does not exist: the self-training job in {checkpoint} has '
                          'not finished (see its self_training_state.json); run the same '
                          'tools/train.py command again to complete it, or pass a stage\'s '
                          '<stage>/stage_weights.pth')
    return final


def semi_detector_default(cfg: Config) -> str:
    """The network mmdet evaluates (``semi_test_cfg.predict_on``, Soft Teacher: teacher)."""
    return (cfg.model.get('semi_test_cfg') or {}).get('predict_on', 'teacher')


_POSE_NET1 = SubNetwork('the first estimator', 'estimator', 'net1.')
#: regimes in matching order (subclasses before their bases)
REGIMES: List[Regime] = [
    Regime('self-training (STLD)', runner_class='mmssl.engine.runners.SelfTrainingRunner',
           modules=dict(final=SubNetwork("the job's final model (a self-training work_dir, "
                                         'its final_model.pth or a stage_weights.pth)')),
           default='final', resolve_checkpoint=self_training_final_model),
    Regime('PoseCons', model_class='mmssl.models.semi_pose.PoseCons',
           modules=dict(net1=_POSE_NET1), default='net1'),
    Regime('PoseDual', model_class='mmssl.models.semi_pose.PoseDual',
           modules=dict(net1=_POSE_NET1,
                        net2=SubNetwork('the second estimator', 'estimator2', 'net2.',
                                        fallback_key='estimator')),
           default='net1'),
    Regime('adversarial augmentation',
           model_class='mmssl.models.augmenters.AdversarialPoseEstimator',
           modules=dict(pose=SubNetwork('the pose network D', 'estimator', 'pose.')),
           default='pose'),
    Regime('teacher-student detection', model_class='mmdet.models.SemiBaseDetector',
           modules=dict(teacher=SubNetwork('the EMA teacher detector', 'detector', 'teacher.'),
                        student=SubNetwork('the student detector', 'detector', 'student.')),
           default=semi_detector_default),
    Regime('Lifting from the Deep',
           model_class='mmssl.models.lifting.LiftingTopdownPoseEstimator',
           modules=dict(pose2d=SubNetwork('the 2D network (LiftingCPM) as a plain '
                                          'TopdownPoseEstimator', exclude=('own_lifter.', ),
                                          edit=lifting_2d),
                        pose3d=SubNetwork('the whole 3D estimator (2D network + lifting)')),
           default='pose2d'),
]


# ---------------------------------------------------------------------- lookup
def _import(path: str) -> type:
    module, name = path.rsplit('.', 1)
    return getattr(importlib.import_module(module), name)


def _registered(registry, cfg: Config, type_name) -> Optional[type]:
    if isinstance(type_name, type):
        return type_name
    if not isinstance(type_name, str):
        return None
    scope = cfg.get('default_scope') or 'mmengine'
    key = type_name if '.' in type_name else f'{scope}.{type_name}'
    return registry.get(key)


def find_regime(cfg: Config, config_name: str = 'the config') -> Regime:
    """The regime of ``cfg``.

    Raises:
        ExportError: when ``cfg`` is no multi-network or multi-stage config.
    """
    import mmssl  # noqa: F401  (registration; safe checkpoint loading)
    runner = _registered(RUNNERS, cfg, cfg.get('runner_type'))
    model_type = (cfg.get('model') or {}).get('type')
    model = _registered(MODELS, cfg, model_type)
    for regime in REGIMES:
        if regime.runner_class:
            if runner is not None and issubclass(runner, _import(regime.runner_class)):
                return regime
        elif model is not None and issubclass(model, _import(regime.model_class)):
            return regime
    known = '; '.join(f'{r.name}: {r.describe()}' for r in REGIMES)
    raise ExportError(f'{config_name}: model {model_type!r} is a single network: its '
                      'checkpoints load with tools/test.py / init_model as they are, there is '
                      f'nothing to extract. Exportable regimes: {known}')


def available_modules(cfg: Config, config_name: str = 'the config') -> Dict[str, str]:
    """The networks that ``cfg`` can export, ``{name: description}``."""
    regime = find_regime(cfg, config_name)
    return {name: sub.doc for name, sub in regime.modules.items()
            if sub.model_cfg(cfg.model) is not None}


def _resolve(cfg: Config, module: Optional[str],
             config_name: str) -> Tuple[Regime, str, SubNetwork]:
    regime = find_regime(cfg, config_name)
    name = module or regime.default_module(cfg)
    sub = regime.modules.get(name)
    if sub is None or sub.model_cfg(cfg.model) is None:
        available = ', '.join(f'{n} ({d})' for n, d in available_modules(cfg).items())
        why = 'has no network' if sub is None else 'does not configure'
        raise ExportError(f'{config_name}: the {regime.name} model '
                          f'{cfg.model.get("type")!r} {why} {name!r}; available modules: '
                          f'{available}')
    return regime, name, sub


# ---------------------------------------------------------------------- plain config
def _plain_loop(loop: Optional[dict], plain: str) -> dict:
    """``loop`` if it is mmengine's ``plain`` loop (its options kept), else ``plain``
    (e.g. ``MultiModelTestLoop``, ``TeacherStudentValLoop`` need the wrapper)."""
    if isinstance(loop, dict) and str(loop.get('type', plain)).split('.')[-1] == plain:
        return copy.deepcopy(dict(loop, type=plain))
    return dict(type=plain)


def plain_config(cfg: Config, module: Optional[str] = None,
                 config_name: str = 'the config') -> Config:
    """The config of network ``module`` of ``cfg`` as a plain test/inference config.

    ``model`` is the network's config (with the wrapper's inner data preprocessor if it has
    none); training parts and runner settings are removed; ``test_dataloader`` and
    ``test_evaluator`` are the config's (its ``val_*`` ones if it has no test set) with
    mmengine's ``TestLoop``, validation keeps its data and evaluator with ``ValLoop``;
    structured top-level helper variables (train pipelines, ``estimator``, ...) are dropped.
    """
    _, _, sub = _resolve(cfg, module, config_name)
    out = copy.deepcopy(cfg)
    model = sub.model_cfg(cfg.model)
    outer = cfg.model.get('data_preprocessor')
    if sub.cfg_key and not model.get('data_preprocessor') and isinstance(outer, dict):
        # a MultiBranch(Pose)DataPreprocessor wraps the plain network's preprocessor
        multi_branch = 'MultiBranch' in str(outer.get('type'))
        inner = outer.get('data_preprocessor') if multi_branch else outer
        if inner:
            model.data_preprocessor = copy.deepcopy(inner)
    out.model = model
    loader, evaluator = eval_loader_and_evaluator(cfg)
    for key in WRAPPER_KEYS:
        out.pop(key, None)
    for key in [k for k, v in out.items() if k not in KEPT_KEYS and not _is_plain_value(v)]:
        out.pop(key)
    out.load_from, out.resume = None, False
    if loader is not None:
        out.test_dataloader = sanitize_loader(loader)
        out.test_evaluator = copy.deepcopy(evaluator)
        out.test_cfg = _plain_loop(cfg.get('test_cfg'), 'TestLoop')
    else:
        out.test_dataloader = out.test_evaluator = out.test_cfg = None
    if cfg.get('val_dataloader') and cfg.get('val_evaluator'):
        out.val_cfg = _plain_loop(cfg.get('val_cfg'), 'ValLoop')
    else:
        out.val_dataloader = out.val_evaluator = out.val_cfg = None
    checkpoint_hook = (out.get('default_hooks') or {}).get('checkpoint')
    if checkpoint_hook:
        checkpoint_hook.pop('save_best', None)  # wrapper metric names (e.g. ensemble/coco/AP)
    if sub.edit is not None:
        sub.edit(out)
    return out


# ---------------------------------------------------------------------- weights
def sub_state_dict(state: Dict[str, torch.Tensor], sub: SubNetwork,
                   checkpoint: str = 'the checkpoint') -> Dict[str, torch.Tensor]:
    """The network's weights of a wrapper ``state_dict`` (prefix stripped)."""
    p = sub.prefix
    out = {k[len(p):]: v for k, v in state.items()
           if k.startswith(p) and not (sub.exclude and k[len(p):].startswith(sub.exclude))}
    if not out:
        prefixes = sorted({k.split('.')[0] for k in state})
        raise ExportError(f'{checkpoint} has no weights under "{p}" (its top-level keys: '
                          f'{prefixes}); is it a checkpoint of this config?')
    return out


def _check_loads(cfg: Config, state: Dict[str, torch.Tensor], checkpoint: str) -> None:
    """Build the plain network and load ``state`` into it; every key must match (mmengine's
    ``load_checkpoint`` would only warn, leaving randomly initialised layers)."""
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        model = MODELS.build(copy.deepcopy(cfg.model))
    result = model.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise ExportError(f'the weights of {checkpoint} do not fit the exported network: '
                          f'missing {result.missing_keys[:8]}, unexpected '
                          f'{result.unexpected_keys[:8]}')


def _dataset_meta(cfg: Config) -> Optional[dict]:
    """The test dataset's metainfo (pose configs), for checkpoints saved without it."""
    if str(cfg.get('default_scope')) != 'mmpose' or not cfg.get('test_dataloader'):
        return None
    from mmpose.apis.inference import dataset_meta_from_config
    with DefaultScope.overwrite_default_scope('mmpose'):
        return dataset_meta_from_config(cfg, dataset_mode='test')


def _atomic_write(path: str, write: Callable[[str], None]) -> None:
    root, ext = osp.splitext(path)
    tmp = f'{root}.tmp{os.getpid()}{ext}'
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def extract(config: Union[str, Config], checkpoint: str, module: Optional[str],
            out: str) -> Tuple[str, str]:
    """Write network ``module`` of a training config/checkpoint as ``out.py`` + ``out.pth``.

    Args:
        config: The training config (path or :class:`Config`).
        checkpoint: Its checkpoint (for self-training configs also the job's work_dir).
        module: The network (see :data:`REGIMES`); ``None`` for the regime's default.
        out: Output path without extension.

    Returns:
        tuple: ``(config_path, checkpoint_path)``, each written atomically (write, then
        rename): the plain config and a checkpoint whose ``state_dict`` is the network's,
        with the original ``meta`` (``dataset_meta`` added if it was missing).

    Raises:
        ExportError: unknown network, foreign checkpoint or weights that do not fit.
    """
    config_name = config if isinstance(config, str) else (config.filename or 'the config')
    cfg = Config.fromfile(config) if isinstance(config, str) else copy.deepcopy(config)
    regime, name, sub = _resolve(cfg, module, config_name)
    if regime.resolve_checkpoint is not None:
        checkpoint = regime.resolve_checkpoint(checkpoint)
    plain = plain_config(cfg, name, config_name)
    ckpt = torch.load(checkpoint, map_location='cpu', weights_only=True)
    state = sub_state_dict(ckpt.get('state_dict', ckpt), sub, checkpoint)
    _check_loads(plain, state, checkpoint)
    meta = dict(ckpt.get('meta') or {})
    if 'dataset_meta' not in meta:
        dataset_meta = _dataset_meta(plain)
        if dataset_meta is not None:
            meta['dataset_meta'] = dataset_meta
    meta['exported_from'] = dict(config=config_name, checkpoint=osp.abspath(checkpoint),
                                 module=name, regime=regime.name)
    os.makedirs(osp.dirname(osp.abspath(out)) or '.', exist_ok=True)
    cfg_path, ckpt_path = f'{out}.py', f'{out}.pth'
    _atomic_write(cfg_path, plain.dump)
    with open(cfg_path) as f:
        meta['cfg'] = f.read()  # the exported config, not the wrapper's
    _atomic_write(ckpt_path, lambda p: torch.save(dict(state_dict=state, meta=meta), p))
    return cfg_path, ckpt_path
