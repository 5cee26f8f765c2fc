"""Recipe cards: what a training run of a config really does, computed from the config.

A card answers the questions a researcher asks before spending a cluster on a config:
devices x per-device batch (per source), samples and iterations per epoch, optimizer steps
in total, warm-up length, peak learning rate (as configured and under ``--auto-scale-lr``),
learning-rate steps in iterations, input/heatmap size, test-time flip, the evaluator and the
``save_best`` key; a self-training job (``runner_type``) gets one card row per train stage.
:func:`check_schedule` lists the ways a loop and its schedulers disagree.
"""
import copy
import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from mmengine.config import Config
from mmssl.utils import walk_config

#: scheduler types that only ramp the learning rate up at the start of a run
WARMUP_TYPES = ('LinearLR', 'QuadraticWarmupLR', 'LinearParamScheduler')


@dataclass
class StageCard:
    """One training run (a config, or one train stage of a self-training job)."""
    name: str
    gpus: int
    batch_per_gpu: Tuple[int, ...]  # per source: (labeled, unlabeled) or (batch, )
    sources: Tuple[str, ...]
    samples_per_epoch: Optional[int]
    iters_per_epoch: Optional[int]
    epochs: Optional[float]
    total_iters: Optional[int]
    warmup_iters: int
    lr: Dict[str, float]
    lr_auto_scaled: Dict[str, float]
    lr_steps_iters: List[int]
    lr_rules: List[str] = field(default_factory=list)
    pseudo: str = ''  # self-training: how the stage trains its pseudo-labeled part

    @property
    def batch_per_step(self) -> int:
        return self.gpus * sum(self.batch_per_gpu)


@dataclass
class RecipeCard:
    config: str
    stages: List[StageCard]
    input_size: Optional[Tuple[int, int]]
    heatmap_size: Optional[Tuple[int, int]]
    flip_test: Optional[bool]
    evaluators: List[str]
    save_best: Optional[str]
    rule: Optional[str]
    problems: List[str]
    #: a self-training job's paper-vs-release switches as the runner resolves them
    switches: Optional[Dict[str, Any]] = None

    @property
    def optimizer_steps(self) -> Optional[int]:
        steps = [s.total_iters for s in self.stages]
        return None if any(s is None for s in steps) else sum(steps)

    def format(self) -> str:
        lines = [f'config       {self.config}']
        for s in self.stages:
            batch = ':'.join(str(b) for b in s.batch_per_gpu)
            sources = ':'.join(s.sources)
            lines += [
                f'[{s.name}]',
                f'  devices x batch      {s.gpus} x {batch} ({sources}) = {s.batch_per_step} '
                'per optimizer step',
                f'  samples / epoch      {_fmt(s.samples_per_epoch)}',
                f'  iterations / epoch   {_fmt(s.iters_per_epoch)}',
                f'  epochs               {_fmt(s.epochs)}',
                f'  iterations in total  {_fmt(s.total_iters)}',
                f'  warm-up              {s.warmup_iters} iterations',
                f'  peak lr              {_fmt_lr(s.lr)}  (--auto-scale-lr: '
                f'{_fmt_lr(s.lr_auto_scaled)})',
                f'  lr steps at          {s.lr_steps_iters or "-"} iterations'
                + (f'; {"; ".join(s.lr_rules)}' if s.lr_rules else ''),
            ]
            if s.pseudo:
                lines.append(f'  pseudo-labeled part  {s.pseudo}')
        if self.switches:
            lines.append('switches     ' + ', '.join(f'{k}={v}'
                                                     for k, v in self.switches.items()))
        lines += [
            f'input size   {_fmt(self.input_size)} (w, h); heatmap {_fmt(self.heatmap_size)}',
            f'flip test    {_fmt(self.flip_test)}',
            f'evaluator    {", ".join(self.evaluators) or "-"}',
            f'save_best    {self.save_best or "-"} ({self.rule or "-"})',
            f'optimizer steps in total {_fmt(self.optimizer_steps)}',
        ]
        lines += [f'PROBLEM      {p}' for p in self.problems]
        return '\n'.join(lines)


def _fmt(value) -> str:
    return '-' if value is None else str(value)


def _fmt_lr(lrs: Dict[str, float]) -> str:
    return ', '.join(f'{k}={v:g}' if k else f'{v:g}' for k, v in lrs.items()) or '-'


def _type(node: dict) -> str:
    return str(node.get('type', '')).split('.')[-1]


def schedulers_of(cfg: Config) -> Dict[str, List[dict]]:
    """Parameter schedulers by optimizer ('' for a single optimizer)."""
    sched = cfg.get('param_scheduler') or []
    if isinstance(sched, dict) and 'type' not in sched:
        return {k: list(v) if isinstance(v, (list, tuple)) else [v] for k, v in sched.items()}
    return {'': list(sched) if isinstance(sched, (list, tuple)) else [sched]}


def learning_rates(cfg: Config) -> Dict[str, float]:
    """Peak (configured) learning rate of each optimizer."""
    wrapper = cfg.get('optim_wrapper') or {}
    if 'optimizer' in wrapper:
        return {'': float(wrapper['optimizer']['lr'])}
    return {k: float(v['optimizer']['lr']) for k, v in wrapper.items()
            if isinstance(v, dict) and 'optimizer' in v}


def _loop(cfg: Config) -> Tuple[str, Optional[int]]:
    train_cfg = cfg.get('train_cfg') or {}
    if 'IterBased' in str(train_cfg.get('type', '')) or 'max_iters' in train_cfg:
        return 'iter', train_cfg.get('max_iters')
    return 'epoch', train_cfg.get('max_epochs')


def _sources(dataset: dict) -> List[dict]:
    kind = _type(dataset)
    if kind in ('ConcatDataset', 'CombinedDataset'):
        return list(dataset['datasets'])
    return [dataset]


def _dataset_size(dataset: dict, sizes: Dict[str, int], name: str) -> Optional[int]:
    """Samples of ``dataset``: ``sizes[name]``, times any repeat wrapper."""
    if _type(dataset) == 'RepeatDataset':
        inner = _dataset_size(dataset['dataset'], sizes, name)
        return None if inner is None else inner * int(dataset['times'])
    return sizes.get(name)


def _iters_per_epoch(loader: dict, gpus: int, sizes: Dict[str, int],
                     names: Sequence[str]) -> Tuple[Tuple[int, ...], Optional[int],
                                                    Optional[int]]:
    from mmssl.datasets.mixed_ratio_sampler import num_batches_per_epoch, split_batch
    batch = int(loader.get('batch_size', 1))
    sampler = loader.get('sampler') or {}
    datasets = _sources(loader['dataset'])
    ratio = sampler.get('source_ratio')
    per_batch = tuple(split_batch(batch, ratio)) if ratio else (batch, )
    counts = [_dataset_size(d, sizes, n) for d, n in zip(datasets, names)]
    if any(c is None for c in counts):
        return per_batch, None, None
    if ratio and _type(sampler) == 'MixedRatioSampler':
        iters = num_batches_per_epoch(counts, per_batch, gpus)
        return per_batch, iters * batch * gpus, iters
    if ratio:  # MultiSourceSampler-style infinite samplers: no epoch
        return per_batch, None, None
    total = sum(counts)
    per_rank = math.ceil(total / gpus)
    iters = per_rank // batch if loader.get('drop_last') else math.ceil(per_rank / batch)
    return per_batch, total, iters


def _stage_card(cfg: Config, name: str, gpus: int, sizes: Dict[str, int],
                names: Sequence[str], problems: List[str], label: str) -> StageCard:
    loader = cfg.train_dataloader
    per_batch, samples, iters_ep = _iters_per_epoch(loader, gpus, sizes, names)
    unit, length = _loop(cfg)
    if unit == 'iter':
        total, epochs = length, None
        if iters_ep:
            epochs = round(length / iters_ep, 2)
    else:
        epochs = length
        total = None if iters_ep is None or length is None else iters_ep * length
    per_iter = 1 if unit == 'iter' else iters_ep
    warmup, steps, rules = 0, [], []
    for opt, schedulers in schedulers_of(cfg).items():
        for sched in schedulers:
            by_epoch = bool(sched.get('by_epoch', True))
            scale = per_iter if by_epoch else 1
            kind = _type(sched)
            begin = int(sched.get('begin', 0))
            if kind in WARMUP_TYPES and begin == 0 and sched.get('end', math.inf) < math.inf:
                if scale is not None:
                    warmup = max(warmup, int(sched['end']) * scale)
            elif kind == 'MultiStepLR' and scale is not None:
                steps += [int((begin + m) * scale) for m in sched.get('milestones', [])]
            elif kind == 'ReduceOnPlateauLR':
                rules.append(f'{opt + ": " if opt else ""}x{sched.get("factor", 0.1)} when '
                             f'{sched.get("monitor")} plateaus ({sched.get("patience", 10)} '
                             'validations)')
            elif kind not in ('ConstantLR', ):
                rules.append(f'{opt + ": " if opt else ""}{kind}')
    if total is not None and warmup >= total > 0:
        problems.append(f'{label}: the warm-up ({warmup} iterations) is not shorter than the '
                        f'run ({total} iterations on {gpus} device(s))')
    lrs = learning_rates(cfg)
    base = (cfg.get('auto_scale_lr') or {}).get('base_batch_size')
    real = gpus * int(loader.get('batch_size', 1))
    scaled = {k: v * real / base for k, v in lrs.items()} if base else dict(lrs)
    return StageCard(name, gpus, per_batch, tuple(names), samples, iters_ep, epochs, total,
                     warmup, lrs, scaled, sorted(steps), rules)


def source_names(cfg: Config) -> List[str]:
    """Names of the training sources, as ``--dataset-sizes`` keys."""
    datasets = _sources(cfg.train_dataloader['dataset'])
    if len(datasets) == 2:
        return ['labeled', 'unlabeled']
    if 'self_training' in cfg:
        return ['labeled']
    return ['train'] if len(datasets) == 1 else [f'source{i}' for i in range(len(datasets))]


def _self_training_stages(cfg: Config, gpus: int, sizes: Dict[str, int],
                          problems: List[str]) -> Tuple[List[StageCard], Dict[str, Any]]:
    """One card per train stage of a self-training job, as the runner builds them, and the
    job's resolved paper-vs-release switches."""
    from mmssl.engine.runners import self_training_configs as sc
    from mmssl.engine.runners.self_training_checks import PROTOCOL_SWITCHES, plan_of
    from mmssl.engine.runners.self_training_plan import trains_shrink_output
    settings, plan, standard = plan_of(cfg)
    labeled = sizes.get('labeled')
    unlabeled = sizes.get('unlabeled')
    min_size = int(settings['labeled_min_size'] or 0)
    cards = []
    for stage in plan:
        if stage.kind != 'train':
            continue
        stage_cfg = copy.deepcopy(cfg)
        sc.scale_schedule(stage_cfg, stage.schedule_scale)
        lab = labeled
        if labeled and stage.labeled_oversample and min_size > labeled:
            lab = labeled * math.ceil(min_size / labeled)
        count = {'labeled': lab, 'pseudo': unlabeled,
                 'mixed': None if lab is None or unlabeled is None
                 else lab + unlabeled}[stage.data]
        name = {'labeled': 'labeled', 'pseudo': 'pseudo', 'mixed': 'labeled+pseudo'}[stage.data]
        card = _stage_card(stage_cfg, stage.name, gpus, {} if count is None else {name: count},
                           [name], problems, f'stage {stage.name}')
        if stage.source_aware:
            value = ('standard regression' if stage.shrink_value is None
                     else f'shrink value {stage.shrink_value:g}')
            output = 'shrink' if trains_shrink_output(stage, standard) else 'main'
            card.pseudo = f'lambda {stage.pseudo_weight:g}, {value}, {output} output'
        cards.append(card)
    return cards, {key: settings[key] for key in PROTOCOL_SWITCHES}


def _model_facts(cfg: Config):
    codec, flip = {}, []

    def visit(node):
        if 'input_size' in node and 'heatmap_size' in node and not codec:
            codec.update(node)
        test_cfg = node.get('test_cfg')
        if isinstance(test_cfg, dict) and 'flip_test' in test_cfg:
            flip.append(bool(test_cfg['flip_test']))
    walk_config(cfg.model, visit)
    if not codec:
        walk_config(cfg.model,
                    lambda n: codec.update(n) if 'input_size' in n and not codec else None)
    flip_test = flip[-1] if flip else (False if cfg.get('default_scope') == 'mmpose' else None)
    return (tuple(codec['input_size']) if codec.get('input_size') else None,
            tuple(codec['heatmap_size']) if codec.get('heatmap_size') else None, flip_test)


def check_schedule(cfg: Config, name: str) -> List[str]:
    """Raise ``ValueError`` when a scheduler is longer or shorter than its loop (in the loop's
    unit), or a milestone lies outside it; returns the checked schedulers' descriptions."""
    unit, length = _loop(cfg)
    checked, problems = [], []
    for opt, schedulers in schedulers_of(cfg).items():
        for sched in schedulers:
            by_epoch = bool(sched.get('by_epoch', True))
            if (unit == 'epoch') != by_epoch or length is None:
                continue  # other unit: checked by the recipe card with the dataset sizes
            kind = _type(sched)
            where = f'{name}: param_scheduler {opt + "." if opt else ""}{kind}'
            end = sched.get('end', math.inf)
            if end < math.inf and end > length:
                problems.append(f'{where} ends at {unit} {end}, after the loop\'s last {unit} '
                                f'{length}')
            if (kind not in WARMUP_TYPES + ('ConstantLR', ) and end < math.inf
                    and end < length):
                problems.append(f'{where} ends at {unit} {end}, before the loop ends '
                                f'({length}); set end={length} (or the loop length)')
            for m in sched.get('milestones', []):
                if not 0 < m + sched.get('begin', 0) < min(end, length + 1):
                    problems.append(f'{where} milestone {m} is outside the run (1..{length})')
            checked.append(where)
    if problems:
        raise ValueError('; '.join(problems))
    return checked


def recipe_card(cfg: Config, config: str = '', gpus: int = 1,
                dataset_sizes: Optional[Dict[str, int]] = None) -> RecipeCard:
    """The card of ``cfg`` run on ``gpus`` devices with ``dataset_sizes`` samples per source
    (keys of :func:`source_names`; for a self-training job ``labeled`` and ``unlabeled``)."""
    sizes = dict(dataset_sizes or {})
    problems: List[str] = []
    try:
        check_schedule(cfg, config)
    except ValueError as err:
        problems.append(str(err))
    switches = None
    if 'self_training' in cfg:
        stages, switches = _self_training_stages(cfg, gpus, sizes, problems)
    else:
        stages = [_stage_card(cfg, 'train', gpus, sizes, source_names(cfg), problems,
                              config or 'train')]
    input_size, heatmap_size, flip = _model_facts(cfg)
    evaluator = cfg.get('val_evaluator') or cfg.get('test_evaluator') or []
    evaluators = [_type(e) for e in (evaluator if isinstance(evaluator, list) else [evaluator])]
    ckpt = (cfg.get('default_hooks') or {}).get('checkpoint') or {}
    return RecipeCard(config, stages, input_size, heatmap_size, flip, evaluators,
                      ckpt.get('save_best'), ckpt.get('rule'), problems, switches)
