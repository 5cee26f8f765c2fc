"""The stage sequence of a self-training job (STLD Algorithm 1, its ablations, baselines).

A job is a flat list of :class:`Stage` s, each an ordinary mmengine run (train, evaluate or
pseudo-label) with its own work_dir sub-folder. The list is a pure function of the
``self_training`` settings, so a restarted job recomputes it, compares each completed stage's
spec with what the state file recorded and continues with the first stage not done.

STLD (``mode='stld'``), T rounds::

    round0_supervised      labeled data, standard regression, fresh (ImageNet) init
    round0_eval            test set, round-0 model           (eval_each_round)
    round0_pseudo_label    all unlabeled images, no selection
    round t = 1..T:
      round{t}_pseudo_pretrain  pseudo-labels of round t-1 only, standard regression;
                                t = 1: fresh init, full schedule;
                                t >= 2: previous pretrain weights, 1/speedup of the schedule
      round{t}_mixed            init from this round's pretrain; t = 1: labeled only;
                                t >= 2: labeled (standard) + pseudo (shrink value
                                curriculum[t-2], weight lambda_t)
      round{t}_eval
      round{t}_pseudo_label     (the last round's only with relabel_last_round)

Ablations of STLD's two components (the paper's Fig. 9), same round 0:

- ``mode='pseudo_pretrain_only'``: every round t = 1..T pseudo-pretrains as STLD does and then
  trains on the labeled set only (round 1 of STLD, repeated): no shrink regression, so no
  ``curriculum`` and no ``pseudo_loss_weights``.
- ``mode='shrink_only'``: no pseudo pretraining; round t = 2..T trains a fresh model on labeled
  (standard) + pseudo-labels (shrink value curriculum[t-2], weight lambda_t), exactly STLD's
  mixed stage without its pretrained init. Round 1 is not run: without pretraining it would be
  supervised training on the labeled set, the task of round 0 again, so round 2 uses round
  0's pseudo-labels. Needs ``num_rounds >= 2``.

Baselines (``mode='naive'`` / ``'selection'``): round 0 as above, then every round trains a
fresh model on labeled + pseudo-labeled data with standard regression (``selection`` keeps
only pseudo-labels whose mean keypoint score reaches ``score_thr``). ``pseudo_loss_weights``
(one lambda per round 1..T, e.g. the paper's linear warm-up ``[0.1, 0.4, 0.7, 1.0]``) weights
the pseudo-labeled samples of each round; without it they weigh as much as ground truth.

Where the authors' release differs from the paper's text (three switches, each recorded in
the specs of the stages it changes, so stages it leaves alone stay shareable between jobs):

- ``standard_pseudo_output``: pseudo-labels whose shrink value is the ground truth's (sigma_T
  = sigma_std, p_T = 1) are merged into the main output (``'main'``, the paper's text) or
  keep the shrink output (``'shrink'``, the release's heatmap model): ``shrink_at_standard``.
- ``pseudo_loss_weight_index``: lambda_t is the ``pseudo_loss_weights`` value of round t
  (``'paper'``: 0.1, 0.1, 1 for T = 4) or of round t + 1, the last round keeping its own
  (``'release'``, which reads lambda by the training round from a list that pairs it with the
  sigma of the labels' round: 0.1, 1, 1).
- ``last_round_oversample``: the last round's labeled part is oversampled to
  ``labeled_min_size`` like every other round's (``True``) or is the original labeled set
  (``False``, the release): ``labeled_oversample``.
"""
from dataclasses import MISSING, asdict, dataclass, fields, replace
from typing import List, Optional, Sequence

MODES = ('stld', 'naive', 'selection', 'pseudo_pretrain_only', 'shrink_only')
#: modes whose rounds use a shrink curriculum (rounds 2..T)
SHRINK_MODES = ('stld', 'shrink_only')
#: modes with a pseudo-pretraining stage in every round
PRETRAIN_MODES = ('stld', 'pseudo_pretrain_only')
#: baselines: a fresh model on labeled + pseudo-labeled data every round
BASELINE_MODES = ('naive', 'selection')
#: where pseudo-labels at the ground truth's granularity are trained (paper text / release HM)
STANDARD_PSEUDO_OUTPUTS = ('main', 'shrink')
#: how lambda_t is read from the weight list (paper: round t; release: round t + 1)
PSEUDO_WEIGHT_INDEXES = ('paper', 'release')


@dataclass(frozen=True)
class Stage:
    """One stage of a self-training job.

    Attributes:
        name (str): Unique name, also the work_dir sub-folder.
        kind (str): ``'train'``, ``'eval'`` or ``'label'``.
        round (int): Self-training round (0 = supervised).
        data (str): Training data: ``'labeled'``, ``'pseudo'`` or ``'mixed'``.
        init (str): Train stages: name of the train stage whose weights initialise the model,
            ``''`` for the config's own initialisation.
        schedule_scale (float): Fraction of the config's schedule (epochs or iterations).
        pseudo_from (str): Name of the label stage whose file provides pseudo-labels.
        source_aware (bool): Tag pseudo-labeled samples so the head applies shrink
            regression with ``shrink_value`` and weight ``pseudo_weight``.
        shrink_value (float, optional): sigma_t (heatmap heads) or p_t (coordinate heads);
            ``None`` on a source-aware stage means standard regression (weighted baselines).
        pseudo_weight (float): lambda, the weight of pseudo-labeled samples.
        model_from (str): Eval/label stages: the train stage whose weights are used.
        score_thr (float, optional): Label stages: keep only pseudo-labels whose mean
            keypoint score is at least this (selection baseline).
        shrink_at_standard (bool): Source-aware stages whose ``shrink_value`` is the ground
            truth's: train the pseudo-labels through the shrink output anyway instead of
            merging them into the main output (see :func:`trains_shrink_output`).
        labeled_oversample (bool): Train stages reading the labeled set: oversample it to
            ``labeled_min_size`` (``False``: the original set).

    Fields added after the first release default to the behaviour that came before them, so
    the state files of older jobs still match (:func:`spec_matches`).
    """
    name: str
    kind: str
    round: int
    data: str = ''
    init: str = ''
    schedule_scale: float = 1.0
    pseudo_from: str = ''
    source_aware: bool = False
    shrink_value: Optional[float] = None
    pseudo_weight: float = 1.0
    model_from: str = ''
    score_thr: Optional[float] = None
    shrink_at_standard: bool = False
    labeled_oversample: bool = True

    def spec(self) -> dict:
        """The fields a restarted job must find unchanged for a completed stage."""
        return asdict(self)

    def inputs(self) -> List[str]:
        """Names of the stages whose outputs this stage reads."""
        return [name for name in (self.init, self.pseudo_from, self.model_from) if name]


def spec_matches(stage: Stage, recorded: Optional[dict]) -> bool:
    """Whether a recorded spec is ``stage``'s. Fields the record lacks (it was written before
    they existed) count as their defaults, which is what the runner did then."""
    if not isinstance(recorded, dict):
        return False
    defaults = {f.name: f.default for f in fields(Stage) if f.default is not MISSING}
    return {**defaults, **recorded} == stage.spec()


def trains_shrink_output(stage: Stage, standard_value: Optional[float]) -> bool:
    """Whether a train stage trains its pseudo-labels through the head's shrink output.

    Source-aware shrink stages do while the pseudo-labels' granularity (sigma_t / p_t)
    differs from the ground truth's (``standard_value``: sigma_std or p = 1), and at it too
    when ``shrink_at_standard``; otherwise (and for weighted baselines, ``shrink_value=None``)
    pseudo-labels go through the main output with per-sample weight lambda.
    """
    if not stage.source_aware or stage.shrink_value is None:
        return False
    return stage.shrink_at_standard or stage.shrink_value != standard_value


def default_pseudo_weights(num_rounds: int) -> List[float]:
    """lambda_t for t = 2..T: 0.1 while t < T, 1 at t = T (the paper's setting)."""
    return [0.1 if t < num_rounds else 1.0 for t in range(2, num_rounds + 1)]


def release_indexed_weights(weights: Sequence[float]) -> List[float]:
    """The lambdas the release trains with, from the per-round list ``weights`` (t = 2..T).

    The release keeps sigma and lambda in one list per round index, but reads sigma at the
    round that made the pseudo-labels (t - 1) and lambda at the training round (t): round t
    gets the value listed for round t + 1 and the last round its own, e.g. the paper's
    [0.1, 0.1, 1] becomes [0.1, 1, 1].
    """
    weights = list(weights)
    return weights[1:] + weights[-1:]


def _eval_and_label(stages: List[Stage], rnd: int, model: str, eval_each_round: bool,
                    label: bool, score_thr: Optional[float]) -> str:
    if eval_each_round:
        stages.append(Stage(f'round{rnd}_eval', 'eval', rnd, model_from=model))
    if not label:
        return ''
    name = f'round{rnd}_pseudo_label'
    stages.append(Stage(name, 'label', rnd, model_from=model, score_thr=score_thr))
    return name


def _check_settings(mode: str, num_rounds: int, curriculum: Optional[Sequence[float]],
                    pseudo_weights: Optional[Sequence[float]], pretrain_speedup: float,
                    score_thr: Optional[float]) -> List[float]:
    """Validate the settings of ``mode``; return the lambdas of its weighted rounds."""
    if mode not in MODES:
        raise ValueError(f'self_training.mode must be one of {MODES}, got {mode!r}')
    if int(num_rounds) != num_rounds or num_rounds < 1:
        raise ValueError(f'self_training.num_rounds must be an integer >= 1, got {num_rounds}')
    if mode == 'shrink_only' and num_rounds < 2:
        raise ValueError('self_training.mode="shrink_only" needs num_rounds >= 2: shrink '
                         'regression runs in rounds 2..T (round 1 of STLD only pretrains)')
    if mode in SHRINK_MODES:
        if curriculum is None or len(curriculum) != num_rounds - 1:
            raise ValueError(
                f'self_training.curriculum must list one shrink value per round 2..T, i.e. '
                f'num_rounds - 1 = {num_rounds - 1} values for num_rounds={num_rounds}; got '
                f'{None if curriculum is None else list(curriculum)} (the paper: T=4, '
                'sigma [2.2, 1.8, 1.5] for heatmaps, p [2.4, 1.6, 1.0] for coordinates)')
    elif curriculum:
        raise ValueError(f'self_training.curriculum is only used by the modes {SHRINK_MODES}, '
                         f'not mode={mode!r}; remove it (curriculum=None)')
    if mode in PRETRAIN_MODES and pretrain_speedup < 1:
        raise ValueError(f'self_training.pretrain_speedup must be >= 1, got {pretrain_speedup}')
    if mode == 'selection' and score_thr is None:
        raise ValueError('self_training.mode="selection" needs self_training.score_thr '
                         '(the confidence threshold tau)')
    if mode != 'selection' and score_thr is not None:
        raise ValueError(f'self_training.score_thr is only used by mode="selection", not '
                         f'mode={mode!r}')
    if mode == 'pseudo_pretrain_only':
        if pseudo_weights is not None:
            raise ValueError('self_training.pseudo_loss_weights is not used by '
                             'mode="pseudo_pretrain_only" (its mixed stages train on the '
                             'labeled set only); remove it (pseudo_loss_weights=None)')
        return []
    if mode in SHRINK_MODES:
        weights = (default_pseudo_weights(num_rounds) if pseudo_weights is None
                   else list(pseudo_weights))
        if len(weights) != num_rounds - 1:
            raise ValueError(f'self_training.pseudo_loss_weights must have num_rounds - 1 = '
                             f'{num_rounds - 1} values (rounds 2..T), got {weights}')
        return [float(w) for w in weights]
    if pseudo_weights is None:
        return []
    weights = [float(w) for w in pseudo_weights]
    if len(weights) != num_rounds:
        raise ValueError(f'self_training.pseudo_loss_weights of mode={mode!r} must have '
                         f'num_rounds = {num_rounds} values (one lambda per round 1..T, e.g. '
                         f'the linear warm-up [0.1, 0.4, 0.7, 1.0]), got {weights}')
    return weights


def _check_switches(mode: str, standard_value: Optional[float], standard_pseudo_output: str,
                    pseudo_loss_weight_index: str, last_round_oversample: bool) -> None:
    """Validate the paper-vs-release switches (see the module docstring)."""
    if standard_pseudo_output not in STANDARD_PSEUDO_OUTPUTS:
        raise ValueError(f'self_training.standard_pseudo_output must be one of '
                         f'{STANDARD_PSEUDO_OUTPUTS}, got {standard_pseudo_output!r}')
    if pseudo_loss_weight_index not in PSEUDO_WEIGHT_INDEXES:
        raise ValueError(f'self_training.pseudo_loss_weight_index must be one of '
                         f'{PSEUDO_WEIGHT_INDEXES}, got {pseudo_loss_weight_index!r}')
    if not isinstance(last_round_oversample, bool):
        raise ValueError(f'self_training.last_round_oversample must be True or False, got '
                         f'{last_round_oversample!r}')
    changed = [name for name, value, paper in (
        ('standard_pseudo_output', standard_pseudo_output, 'main'),
        ('pseudo_loss_weight_index', pseudo_loss_weight_index, 'paper')) if value != paper]
    if changed and mode not in SHRINK_MODES:
        raise ValueError(f'self_training.{changed[0]} only changes the shrink rounds of the '
                         f'modes {SHRINK_MODES}, not mode={mode!r}; remove it')
    if standard_pseudo_output == 'shrink' and standard_value is None:
        raise ValueError('standard_pseudo_output="shrink" needs the ground truth\'s shrink '
                         'value (standard_value: sigma_std of the heatmap targets, or 1 for '
                         'the Lp loss) to find the rounds at standard regression')


def _mixed_stage(name: str, rnd: int, init: str, pseudo: str, shrink: Optional[float],
                 weight: float, shrink_at_standard: bool = False) -> Stage:
    """Labeled (standard) + pseudo-labeled (shrink value ``shrink``, weight lambda)."""
    return Stage(name, 'train', rnd, data='mixed', init=init, pseudo_from=pseudo,
                 source_aware=True, shrink_value=None if shrink is None else float(shrink),
                 pseudo_weight=float(weight), shrink_at_standard=shrink_at_standard)


def build_plan(mode: str, num_rounds: int, curriculum: Optional[Sequence[float]] = None,
               pseudo_weights: Optional[Sequence[float]] = None, pretrain_speedup: float = 5,
               eval_each_round: bool = True, relabel_last_round: bool = True,
               score_thr: Optional[float] = None, *, standard_value: Optional[float] = None,
               standard_pseudo_output: str = 'main', pseudo_loss_weight_index: str = 'paper',
               last_round_oversample: bool = True) -> List[Stage]:
    """The stage list of a job (see the module docstring); arguments are validated.

    Args:
        standard_value (float, optional): The ground truth's shrink value (sigma_std of the
            heatmap targets, 1 for the Lp loss); needed by ``standard_pseudo_output='shrink'``
            to find the rounds at standard regression.
        standard_pseudo_output, pseudo_loss_weight_index, last_round_oversample: the
            paper-vs-release switches (module docstring); the defaults are the paper's text.

    Raises:
        ValueError: on an unknown mode, ``num_rounds < 1``, a curriculum or lambda list
            whose length does not fit the mode and ``num_rounds``, a setting the mode does
            not use, a selection run without threshold, or an unknown switch value.
    """
    weights = _check_settings(mode, num_rounds, curriculum, pseudo_weights, pretrain_speedup,
                              score_thr)
    _check_switches(mode, standard_value, standard_pseudo_output, pseudo_loss_weight_index,
                    last_round_oversample)
    if mode in SHRINK_MODES and pseudo_loss_weight_index == 'release':
        weights = release_indexed_weights(weights)
    num_rounds = int(num_rounds)
    stages = [Stage('round0_supervised', 'train', 0, data='labeled')]
    pseudo = _eval_and_label(stages, 0, 'round0_supervised', eval_each_round, True, score_thr)
    prev_pretrain = ''
    first = 2 if mode == 'shrink_only' else 1
    for t in range(first, num_rounds + 1):
        last = t == num_rounds
        if mode in PRETRAIN_MODES:
            pretrain = f'round{t}_pseudo_pretrain'
            stages.append(Stage(
                pretrain, 'train', t, data='pseudo', init=prev_pretrain, pseudo_from=pseudo,
                schedule_scale=1.0 if t == 1 else 1.0 / pretrain_speedup))
            prev_pretrain = pretrain
        model = f'round{t}_mixed'
        if mode in SHRINK_MODES and t >= 2:
            shrink = float(curriculum[t - 2])
            stages.append(_mixed_stage(
                model, t, prev_pretrain, pseudo, shrink, weights[t - 2],
                shrink_at_standard=(standard_pseudo_output == 'shrink'
                                    and shrink == standard_value)))
        elif mode in PRETRAIN_MODES:
            stages.append(Stage(model, 'train', t, data='labeled', init=prev_pretrain))
        else:
            model = f'round{t}_self_train'
            if weights:  # a weighted baseline: lambda_t on pseudo-labels, standard regression
                stages.append(_mixed_stage(model, t, '', pseudo, None, weights[t - 1]))
            else:
                stages.append(Stage(model, 'train', t, data='mixed', pseudo_from=pseudo))
        pseudo = _eval_and_label(stages, t, model, eval_each_round or last,
                                 relabel_last_round or not last, score_thr)
    if not last_round_oversample:  # the last round's labeled part: the original set
        stages = [replace(s, labeled_oversample=False)
                  if s.kind == 'train' and s.round == num_rounds and s.data != 'pseudo' else s
                  for s in stages]
    return stages


def final_train_stage(stages: Sequence[Stage]) -> Stage:
    """The last train stage: its model is the job's output."""
    return [s for s in stages if s.kind == 'train'][-1]
