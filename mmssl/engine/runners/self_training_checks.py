"""Settings and input checks of the self-training runner, run before any training starts.

Everything a user can get wrong in the config or the data (a missing or empty unlabeled file,
labeled and unlabeled sets with different keypoint counts, a curriculum whose length does not
match the number of rounds, an STLD run with a head that has no shrink output) is reported
here, with the file or setting named, instead of hours later in some stage.
"""
import copy
import warnings
from typing import List, Optional, Sequence, Tuple

from mmengine.config import Config
from mmpose.registry import DATASETS as POSE_DATASETS
from mmpose.registry import MODELS as POSE_MODELS

from mmssl.datasets.splits import load_coco
from .self_training_configs import (eval_loader_and_evaluator, labeled_dataset,
                                    resolve_path, target_sigma)
from .self_training_plan import SHRINK_MODES, Stage, build_plan

#: ``self_training`` settings and their defaults (see SelfTrainingRunner's docstring)
DEFAULT_SETTINGS = dict(
    mode='stld',
    num_rounds=4,
    unlabeled_ann_file=None,
    unlabeled_dataset=None,
    unlabeled_dataloader=None,
    curriculum=None,
    strict_curriculum=True,
    pseudo_loss_weights=None,
    pretrain_speedup=5,
    labeled_min_size=100,
    score_thr=None,
    eval_each_round=True,
    relabel_last_round=True,
    pseudo_flip_test=False,
    pseudo_gt_ann_file=None,
    resume_stage=True,
    stage_val=False,
    # where the release differs from the paper's text: a preset and the switches it sets
    # (None: the protocol's value, see protocol_switches)
    protocol='measured',
    standard_pseudo_output=None,
    pseudo_loss_weight_index=None,
    last_round_oversample=None,
    reuse_stages_from=None,
)

#: the switches that ``protocol`` sets
PROTOCOL_SWITCHES = ('standard_pseudo_output', 'pseudo_loss_weight_index',
                     'last_round_oversample')
PROTOCOLS = ('measured', 'paper', 'release')

#: settings whose every effect on training shows in the stage specs (or that have none), so
#: jobs differing only in them may share the stages whose specs agree (``reuse_stages_from``)
SPEC_ONLY_SETTINGS = ('mode', 'num_rounds', 'curriculum', 'strict_curriculum',
                      'pseudo_loss_weights', 'pretrain_speedup', 'score_thr',
                      'eval_each_round', 'relabel_last_round', 'resume_stage',
                      'reuse_stages_from', 'protocol') + PROTOCOL_SWITCHES

#: dataset type used for the unlabeled images unless ``self_training.unlabeled_dataset``
#: names another
DEFAULT_UNLABELED_TYPE = 'UnlabeledTopDownDataset'


def parse_settings(cfg: Config) -> dict:
    """``cfg.self_training`` merged with the defaults; unknown keys are errors."""
    given = cfg.get('self_training')
    if not given:
        raise ValueError('SelfTrainingRunner needs a `self_training` dict in the config '
                         '(at least unlabeled_ann_file)')
    unknown = set(given) - set(DEFAULT_SETTINGS)
    if unknown:
        raise ValueError(f'unknown self_training settings {sorted(unknown)}; known: '
                         f'{sorted(DEFAULT_SETTINGS)}')
    settings = copy.deepcopy(DEFAULT_SETTINGS)
    settings.update(copy.deepcopy(dict(given)))
    if not settings['unlabeled_ann_file']:
        raise ValueError('self_training.unlabeled_ann_file is required (the COCO file of '
                         'the unlabeled images and boxes)')
    return settings


def protocol_switches(protocol: str, shrink_kind: Optional[str]) -> dict:
    """The switch values of ``protocol`` for a head of ``shrink_kind``.

    - ``'paper'`` (the paper's text): pseudo-labels at standard regression merge into the
      main output, lambda_t = 0.1 for t < T and 1 at T, the labeled set is oversampled to
      ``labeled_min_size`` in every round.
    - ``'release'`` (the authors' code): heatmap heads keep the pseudo-labels on the second
      output in the last round too (``ImageFolder_map``: second output whenever sigma_t >=
      sigma_std), coordinate heads merge them at p = 1 (``ImageFolder_tf``); lambda is read
      one round ahead (0.1, 1, 1 for T = 4); the last round trains on the labeled set
      without oversampling.
    - ``'measured'`` (the default): the paper's text with the release's last-round output
      for heatmap heads, the one release switch that measured better
      (``tools/analysis/stld_switch_study.sh``, configs/stld/README.md); coordinate heads
      get the paper's text, which is also the release's output for them.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f'self_training.protocol must be one of {PROTOCOLS}, got '
                         f'{protocol!r}')
    paper = dict(standard_pseudo_output='main', pseudo_loss_weight_index='paper',
                 last_round_oversample=True)
    heatmap_output = 'shrink' if shrink_kind == 'heatmap_sigma' else 'main'
    if protocol == 'paper':
        return paper
    if protocol == 'measured':
        return dict(paper, standard_pseudo_output=heatmap_output)
    return dict(standard_pseudo_output=heatmap_output, pseudo_loss_weight_index='release',
                last_round_oversample=False)


def resolve_protocol(settings: dict, shrink_kind: Optional[str]) -> dict:
    """``settings`` with every protocol switch left at None set from ``protocol``; switches
    given explicitly override the preset. Modes without shrink rounds (the baselines) get
    the paper's text under ``'measured'``: the output switch does not exist for them.

    Raises:
        ValueError: on an unknown protocol, or ``protocol='release'`` for a mode that the
            release does not have (its loop is STLD's: modes ``stld`` / ``shrink_only``).
    """
    settings = dict(settings)
    protocol = settings['protocol']
    preset = protocol_switches(protocol, shrink_kind)
    if settings['mode'] not in SHRINK_MODES:
        if protocol == 'release':
            raise ValueError(f'self_training.protocol={protocol!r} describes the release\'s '
                             f'STLD loop (modes {SHRINK_MODES}), not mode='
                             f'{settings["mode"]!r}; set the switch you mean on its own '
                             '(e.g. last_round_oversample=False)')
        preset = protocol_switches('paper', shrink_kind)
    for key in PROTOCOL_SWITCHES:
        if settings[key] is None:
            settings[key] = preset[key]
    return settings


def shrink_standard(cfg: Config) -> Tuple[Optional[str], Optional[float]]:
    """The head's ``shrink_kind`` and the ground truth's shrink value: sigma_std of the train
    pipeline's heatmap targets, 1 for the Lp loss, ``None`` for heads without shrink output."""
    kind = getattr(head_class(cfg), 'shrink_kind', None)
    if kind == 'heatmap_sigma':
        return kind, target_sigma(labeled_dataset(cfg)['pipeline'])
    return kind, (1.0 if kind == 'lp' else None)


def plan_of(cfg: Config) -> Tuple[dict, List[Stage], Optional[float]]:
    """The resolved settings, the stage plan and the ground truth's shrink value of a job,
    exactly as the runner computes them (also used by the recipe cards)."""
    settings = parse_settings(cfg)
    kind, standard = shrink_standard(cfg)
    settings = resolve_protocol(settings, kind)
    s = settings
    stages = build_plan(
        s['mode'], s['num_rounds'], s['curriculum'], s['pseudo_loss_weights'],
        s['pretrain_speedup'], s['eval_each_round'], s['relabel_last_round'], s['score_thr'],
        standard_value=standard, standard_pseudo_output=s['standard_pseudo_output'],
        pseudo_loss_weight_index=s['pseudo_loss_weight_index'],
        last_round_oversample=s['last_round_oversample'])
    return settings, stages, standard


def _keypoint_count(coco: dict, path: str) -> Optional[int]:
    """Keypoints per instance of a COCO file (from its annotations, else its category).

    Unlabeled files keep zeroed keypoint lists, whose length still gives the count.
    """
    counts = {len(a['keypoints']) // 3 for a in coco['annotations'] if a.get('keypoints')}
    if len(counts) > 1:
        raise ValueError(f'{path}: annotations have different keypoint counts {sorted(counts)}')
    if counts:
        return counts.pop()
    names = [c.get('keypoints') for c in coco.get('categories', []) if c.get('keypoints')]
    return len(names[0]) if names else None


def head_keypoints(head: dict) -> Optional[int]:
    for key in ('num_keypoints', 'out_channels', 'num_joints'):
        if isinstance(head.get(key), int):
            return head[key]
    return None


def head_class(cfg: Config):
    head_type = cfg.model.get('head', {}).get('type')
    cls = POSE_MODELS.get(head_type) if isinstance(head_type, str) else head_type
    if cls is None:
        raise KeyError(f'model.head.type {head_type!r} is not registered in mmpose MODELS')
    return cls


def unlabeled_dataset_cfg(cfg: Config, settings: dict) -> dict:
    """Dataset config of the unlabeled images (test pipeline, labeled set's data_root)."""
    labeled = labeled_dataset(cfg)
    loader, _ = eval_loader_and_evaluator(cfg)
    if loader is None:
        raise ValueError('the self-training runner needs a test (or val) dataloader: its '
                         'pipeline is used to predict pseudo-labels')
    metainfo = labeled.get('metainfo')
    if metainfo is None:
        cls = POSE_DATASETS.get(labeled['type']) if isinstance(labeled['type'], str) \
            else labeled['type']
        metainfo = copy.deepcopy(getattr(cls, 'METAINFO', None)) if cls else None
    dataset = dict(type=DEFAULT_UNLABELED_TYPE, ann_file=settings['unlabeled_ann_file'],
                   data_root=labeled.get('data_root', ''),
                   data_prefix=copy.deepcopy(labeled.get('data_prefix', dict(img=''))),
                   pipeline=copy.deepcopy(loader['dataset']['pipeline']), test_mode=True)
    if metainfo:
        dataset['metainfo'] = metainfo
    dataset.update(copy.deepcopy(settings['unlabeled_dataset'] or {}))
    if dataset.get('bbox_file'):
        raise ValueError('unlabeled_dataset.bbox_file (detector boxes) is not supported by '
                         'the self-training runner: pseudo-label files copy the unlabeled '
                         'annotations (box, center/scale) and replace their keypoints')
    return dataset


def check_curriculum(curriculum: Sequence[float], kind: str, standard: float,
                     strict: bool = True) -> None:
    """Refuse a shrink curriculum that is not STLD's coarse-to-fine one.

    STLD's task curriculum starts coarse (wide Gaussians / a large p) and ends at standard
    regression, so that the last round trains pseudo-labels exactly like ground truth:

    - the values must not grow from one round to the next (sigma_t or p_t, coarse to fine);
    - the last sigma must be sigma_std, the ground truth's target sigma (heatmap heads);
    - the last p must be 1, the ground truth's L1 loss (coordinate heads).

    Args:
        curriculum (Sequence[float]): ``self_training.curriculum`` (rounds 2..T).
        kind (str): The head's ``shrink_kind``: ``'heatmap_sigma'`` or ``'lp'``.
        standard (float): sigma_std (heatmap heads) or 1 (coordinate heads).
        strict (bool): Raise on a violation (default); with ``False``, which a user sets
            explicitly (``self_training.strict_curriculum=False``), warn instead.

    Raises:
        ValueError: on a violation when ``strict``.
    """
    if not curriculum:
        return
    values = [float(v) for v in curriculum]
    name = 'sigma_t of the pseudo-label heatmaps' if kind == 'heatmap_sigma' else \
        'p_t of the Lp shrink loss'
    paper = '[2.2, 1.8, 1.5]' if kind == 'heatmap_sigma' else '[2.4, 1.6, 1.0]'
    problems = []
    for t, (a, b) in enumerate(zip(values, values[1:]), start=2):
        if b > a:
            problems.append(f'it is not coarse-to-fine: {name} grows from {a} (round {t}) to '
                            f'{b} (round {t + 1}); STLD shrinks it over the rounds (the '
                            f'paper: {paper})')
    if values[-1] != standard:
        if kind == 'heatmap_sigma':
            problems.append(f'its last sigma {values[-1]} is not sigma_std = {standard} (the '
                            'sigma of the ground-truth targets, GenerateTarget in the train '
                            'pipeline): the last round must train pseudo-labels with standard '
                            'regression')
        else:
            problems.append(f'its last p {values[-1]} is not 1 (the L1 loss of the ground '
                            'truth): the last round must train pseudo-labels with standard '
                            'regression')
    if not problems:
        return
    msg = f'self_training.curriculum {list(curriculum)}: ' + '; '.join(problems)
    if strict:
        raise ValueError(msg + '. To run such a curriculum anyway, set '
                         'self_training.strict_curriculum=False (then this is a warning).')
    warnings.warn(msg + ' (self_training.strict_curriculum=False: running it anyway)',
                  UserWarning)


def check_inputs(cfg: Config, settings: dict, unlabeled: dict) -> dict:
    """Validate files, keypoint counts and the head; return facts the runner needs.

    Returns:
        dict: ``labeled_file``, ``unlabeled_file``, ``gt_file`` (absolute), ``num_labeled``,
        ``num_unlabeled``, ``num_keypoints``, ``shrink_kind`` (None for plain heads) and
        ``standard_value`` (the ground-truth sigma or p).
    """
    labeled = labeled_dataset(cfg)
    labeled_file = resolve_path(labeled.get('data_root'), labeled['ann_file'])
    unlabeled_file = resolve_path(unlabeled.get('data_root'), unlabeled['ann_file'])
    lab = load_coco(labeled_file)
    k_lab = _keypoint_count(lab, labeled_file)
    if not lab['annotations'] or k_lab is None:
        raise ValueError(f'the labeled file {labeled_file} has no annotated keypoints')
    unl = load_coco(unlabeled_file)
    if not unl['annotations'] or not unl['images']:
        raise ValueError(f'the unlabeled file {unlabeled_file} is empty (no images or no '
                         'annotations/boxes to pseudo-label)')
    k_unl = _keypoint_count(unl, unlabeled_file)
    if k_unl is not None and k_unl != k_lab:
        raise ValueError(f'keypoint count mismatch: the labeled file {labeled_file} has '
                         f'{k_lab} keypoints per instance, the unlabeled file '
                         f'{unlabeled_file} {k_unl}')
    k_model = head_keypoints(cfg.model.get('head', {}))
    if k_model is not None and k_model != k_lab:
        raise ValueError(f'keypoint count mismatch: model.head predicts {k_model} keypoints, '
                         f'the labeled file {labeled_file} has {k_lab}')

    cls = head_class(cfg)
    kind, standard = shrink_standard(cfg)
    mode = settings['mode']
    if kind is None and settings['pseudo_loss_weights'] is not None:
        raise ValueError(f'self_training.pseudo_loss_weights needs a head that weighs '
                         f'pseudo-labeled samples (STLDHeatmapHead or STLDTransformerHead), '
                         f'got {cls.__name__} (model.head.type)')
    if mode in SHRINK_MODES:
        if kind is None:
            raise ValueError(f'self_training.mode={mode!r} needs a head with a shrink output '
                             f'(STLDHeatmapHead or STLDTransformerHead), got '
                             f'{cls.__name__}; use mode="naive" for other heads')
        if kind == 'heatmap_sigma':
            bad = [v for v in settings['curriculum'] if v <= 0]
        else:
            bad = [v for v in settings['curriculum'] if v < 1]
        if bad:
            need = 'sigma > 0' if kind == 'heatmap_sigma' else 'p >= 1'
            raise ValueError(f'self_training.curriculum {settings["curriculum"]}: invalid '
                             f'values {bad} ({need})')
        check_curriculum(settings['curriculum'], kind, standard,
                         strict=settings['strict_curriculum'])
    decoder = cfg.model.get('head', {}).get('decoder') or {}
    if settings['mode'] == 'selection' and decoder.get('type') == 'RegressionLabel':
        raise ValueError('mode="selection" needs a confidence per keypoint, and coordinate '
                         'regression heads (RegressionLabel codec) output none; use a '
                         'heatmap head or mode="stld"/"naive"')
    gt_file = settings.get('pseudo_gt_ann_file')
    if gt_file:
        gt_file = resolve_path(labeled.get('data_root'), gt_file)
        load_coco(gt_file)  # exists and is COCO
    return dict(labeled_file=labeled_file, unlabeled_file=unlabeled_file, gt_file=gt_file,
                num_labeled=len(lab['annotations']), num_unlabeled=len(unl['annotations']),
                num_keypoints=k_lab, shrink_kind=kind, standard_value=standard)
