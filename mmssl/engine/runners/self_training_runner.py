"""Self-training runner: STLD's curriculum, its ablations and baselines as mmengine runs.

Selected with ``runner_type = 'SelfTrainingRunner'``, so the unchanged ``tools/train.py`` /
``tools/dist_train.sh`` run the whole job::

    _base_ = ['mmpose::face_2d_keypoint/topdown_heatmap/300w/'
              'td-hm_hrnetv2-w18_8xb64-60e_300w-256x256.py']
    custom_imports = dict(imports=['mmssl'], allow_failed_imports=False)
    runner_type = 'SelfTrainingRunner'
    model = dict(head=dict(type='STLDHeatmapHead'))
    train_dataloader = dict(dataset=dict(ann_file='annotations/train.labeled@157.json'))
    self_training = dict(unlabeled_ann_file='annotations/train.unlabeled@157.json',
                         num_rounds=4, curriculum=[2.2, 1.8, 1.5])

``self_training`` settings (defaults in :data:`DEFAULT_SETTINGS`):

- ``mode``: ``'stld'`` (Algorithm 1), its ablations ``'pseudo_pretrain_only'`` (no shrink
  regression) and ``'shrink_only'`` (no pseudo pretraining), or the baselines ``'naive'``
  (all pseudo-labels, standard regression, fresh model each round) and ``'selection'``
  (pseudo-labels with mean score >= ``score_thr``); the stages of each:
  :mod:`.self_training_plan`.
- ``num_rounds`` (T), ``curriculum`` (T-1 shrink values: sigma_t or p_t for rounds 2..T),
  ``pseudo_loss_weights`` (STLD: T-1 lambdas, default 0.1 for t < T, 1 for t = T; baselines:
  T lambdas, one per round, e.g. the linear warm-up [0.1, 0.4, 0.7, 1.0], default 1),
  ``pretrain_speedup`` (rounds >= 2 pretrain from the previous pretrain for 1/speedup of the
  schedule), ``labeled_min_size`` (oversample the labeled set to this size).
- ``strict_curriculum`` (default True): refuse a curriculum that is not coarse-to-fine or
  does not end at standard regression (last sigma = the ground truth's sigma, last p = 1);
  ``False`` runs it with a warning.
- ``unlabeled_ann_file`` (required), ``unlabeled_dataset`` / ``unlabeled_dataloader``
  (overrides of the pseudo-labelling dataset and loader), ``pseudo_flip_test``,
  ``pseudo_gt_ann_file`` (analysis only: hidden labels of the unlabeled images, to log the
  pseudo-labels' NME per round).
- ``eval_each_round``, ``relabel_last_round``, ``resume_stage`` (continue an interrupted train
  stage from its last checkpoint), ``stage_val`` (keep the config's in-stage validation).
- Where the authors' release differs from the paper's text, ``protocol`` sets three
  switches; each one given explicitly overrides it (stages: :mod:`.self_training_plan`,
  values per head: :func:`.protocol_switches`). ``'paper'`` is the paper's text,
  ``'release'`` the authors' code, and ``'measured'`` (the default) the paper's text with
  the release's last-round output for heatmap heads, the one switch that measured better
  (configs/stld/README.md):

  - ``standard_pseudo_output``: ``'main'`` (paper) merges pseudo-labels whose shrink value
    is the ground truth's (the last round: sigma_T = sigma_std, p_T = 1) into the main output
    with per-sample weight lambda; ``'shrink'`` keeps them on the second output, a separate
    lambda-weighted term (release, heatmap heads; its coordinate heads merge at p = 1).
  - ``pseudo_loss_weight_index``: ``'paper'`` gives round t the lambda listed for it (0.1,
    0.1, 1 for T = 4); ``'release'`` the one listed for round t + 1 (0.1, 1, 1).
  - ``last_round_oversample``: ``True`` (paper: the labeled set oversampled to
    ``labeled_min_size`` in every round) or ``False`` (release: the last round trains on the
    original labeled set plus the pseudo-labels).
- ``reuse_stages_from``: the work_dir of another job whose config differs at most in the
  settings the stage specs record (:data:`.SPEC_ONLY_SETTINGS`, e.g. the switches above): a
  fresh job adopts its completed stages whose spec is this job's and whose inputs were
  adopted too (their records point at the other job's files), so arms that differ only in
  the last rounds train the common rounds once.

Every stage runs in ``<work_dir>/<stage name>/``; completed stages are recorded in
``<work_dir>/self_training_state.json``; re-running the same command continues with the first
stage that is not recorded. Each round's test metrics and pseudo-label statistics go to the
config's visualizer backends (tag ``self_training/...``, step = round).
"""
import copy
import gc
import os
import os.path as osp
import time
import uuid
from typing import Dict, Optional

from mmengine.config import Config
from mmengine.dist import barrier, broadcast_object_list, get_dist_info, is_main_process
from mmengine.logging import MMLogger
from mmengine.model import is_model_wrapper
from mmengine.registry import RUNNERS
from mmengine.runner import Runner
from mmengine.runner.checkpoint import get_state_dict, weights_to_cpu
from mmengine.visualization import Visualizer

from . import self_training_configs as sc
from .self_training_checks import (SPEC_ONLY_SETTINGS, check_inputs, plan_of,
                                   unlabeled_dataset_cfg)
from .self_training_plan import (Stage, final_train_stage, spec_matches,
                                 trains_shrink_output)
from .self_training_reuse import adopt_completed_stages
from .self_training_state import SelfTrainingState, atomic_torch_save
from .self_training_utils import config_digest, copy_final_model, init_distributed
from .stage_timer_hook import StageTimerHook

WEIGHTS_FILE = 'stage_weights.pth'


@RUNNERS.register_module()
class SelfTrainingRunner:
    """Run a self-training job stage by stage (see the module docstring).

    Args:
        cfg (Config): The full config, with ``self_training`` and ``work_dir``.
    """

    def __init__(self, cfg: Config) -> None:
        cfg = copy.deepcopy(cfg) if isinstance(cfg, Config) else Config(copy.deepcopy(cfg))
        if not cfg.get('work_dir'):
            raise ValueError('SelfTrainingRunner needs cfg.work_dir')
        self.cfg = cfg
        self.work_dir = osp.abspath(cfg.work_dir)
        self.settings, self.stages, _ = plan_of(cfg)
        s = self.settings
        self.unlabeled = unlabeled_dataset_cfg(cfg, s)
        self.facts = check_inputs(cfg, s, self.unlabeled)
        self.unlabeled['ann_file'] = self.facts['unlabeled_file']
        init_distributed(cfg)
        self.rank, self.world_size = get_dist_info()
        ids = [(time.strftime('%Y%m%d_%H%M%S'), uuid.uuid4().hex[:8])]
        broadcast_object_list(ids)
        self.timestamp, self.run_id = ids[0]
        os.makedirs(self.work_dir, exist_ok=True)
        self.logger = MMLogger.get_instance(
            f'self_training_{self.run_id}', log_level=cfg.get('log_level', 'INFO'),
            log_file=osp.join(self.work_dir, f'self_training_{self.timestamp}.log'))
        if cfg.get('resume'):
            self.logger.warning('resume is automatic for self-training jobs (completed stages '
                                'are read from the state file); ignoring resume/load_from '
                                f'{cfg.get("load_from")!r} given with it')
            cfg.resume, cfg.load_from = False, None
        self.completed: Dict[str, dict] = {}
        self._visualizer: Optional[Visualizer] = None

    @classmethod
    def from_cfg(cls, cfg: Config) -> 'SelfTrainingRunner':
        return cls(cfg)

    # ------------------------------------------------------------------ orchestration
    def train(self) -> Dict[str, dict]:
        """Run every stage not yet completed; return the records of all stages."""
        self._load_state()
        names = [st.name for st in self.stages]
        self.logger.info(f'self-training ({self.settings["mode"]}, T='
                         f'{self.settings["num_rounds"]}, world size {self.world_size}): '
                         f'{len(names)} stages, {len(self.completed)} already done; '
                         f'{self.facts["num_labeled"]} labeled / '
                         f'{self.facts["num_unlabeled"]} unlabeled instances')
        for stage in self.stages:
            if stage.name in self.completed:
                record = self.completed[stage.name]
                if 'reused_from' in record:
                    self.logger.info(f'[{stage.name}] reused from {record["reused_from"]}')
                    self._log_round_scalars(stage, record)
                else:
                    self.logger.info(f'[{stage.name}] done before, skipped')
                continue
            self.logger.info(f'[{stage.name}] start ({stage.kind}, round {stage.round})')
            record = self._run_stage(stage)
            records = [record]
            broadcast_object_list(records)
            record = records[0]
            if is_main_process():
                self.state.record(stage.name, record)
            barrier()
            self.completed[stage.name] = record
            self.logger.info(f'[{stage.name}] done in {record["timing"]["total_s"]:.1f}s '
                             f'(overhead {record["timing"]["overhead_s"]:.1f}s) '
                             f'{record.get("metrics", "")}')
            self._log_round_scalars(stage, record)
            self._on_stage_done(stage, record)
        if is_main_process():
            final = copy_final_model(self.work_dir, self.completed, self.stages)
            self.logger.info(f'self-training finished; final model: {final}')
        barrier()
        return self.completed

    def test(self) -> dict:
        """Evaluate ``cfg.load_from`` (or the job's final model) on the test set."""
        self._load_state()
        weights = self.cfg.get('load_from')
        if not weights:
            name = final_train_stage(self.stages).name
            if name not in self.completed:
                raise RuntimeError(f'{self.work_dir}: the job has not finished ({name} not '
                                   'done) and no load_from was given')
            weights = self.completed[name]['weights']
        stage = Stage(f'test_{self.run_id}', 'eval', -1, model_from='')
        cfg = self._eval_cfg(stage, osp.join(self.work_dir, stage.name), weights)
        return self._execute(stage, cfg)['metrics']

    def _on_stage_done(self, stage: Stage, record: dict) -> None:
        """Called after a stage is recorded (a hook point for subclasses and tests)."""

    # ------------------------------------------------------------------ state
    def _load_state(self) -> None:
        self.state = SelfTrainingState(self.work_dir)
        payload = [None]
        if is_main_process():
            self.state.load()
            other = self.settings['reuse_stages_from']
            if not self.state.completed and other:
                reused = adopt_completed_stages(
                    self.state, self.work_dir, other, self.stages,
                    config_digest(self.cfg, SPEC_ONLY_SETTINGS))
                self.logger.info(f'reusing {len(reused)} completed stages of '
                                 f'{osp.abspath(other)}: {reused}')
            payload = [self.state.completed]
        broadcast_object_list(payload)
        completed = payload[0]
        plan = {st.name: st for st in self.stages}
        for name, record in completed.items():
            if name not in plan or not spec_matches(plan[name], record.get('spec')):
                raise RuntimeError(
                    f'{self.state.path}: stage {name} was completed with settings '
                    f'{record.get("spec")}, but the config now gives '
                    f'{plan[name].spec() if name in plan else None}. Use a new work_dir (or '
                    'delete the state file) to start over.')
            for key in ('weights', 'pseudo_file'):
                if key in record and not osp.isfile(record[key]):
                    raise RuntimeError(f'{self.state.path}: stage {name} is recorded as '
                                       f'done but its output {record[key]} is missing')
        self.completed = dict(completed)
        if is_main_process():
            digest = config_digest(self.cfg)
            old = self.state.data.get('config_digest')
            if completed and old and old != digest:
                self.logger.warning(
                    f'the config differs from the one that completed {len(completed)} stages '
                    f'in {self.work_dir}; completed stages are kept (their settings match), '
                    'later stages use the new config')
            self.state.data['config_digest'] = digest
            self.state.data['reuse_digest'] = config_digest(self.cfg, SPEC_ONLY_SETTINGS)

    # ------------------------------------------------------------------ stages
    def _stage_dir(self, stage: Stage) -> str:
        return osp.join(self.work_dir, stage.name)

    def _weights_of(self, name: str) -> str:
        return self.completed[name]['weights']

    def _run_stage(self, stage: Stage) -> dict:
        t0 = time.perf_counter()
        stage_dir = self._stage_dir(stage)
        if stage.kind == 'train':
            cfg = self._train_cfg(stage, stage_dir)
        elif stage.kind == 'eval':
            cfg = self._eval_cfg(stage, stage_dir, self._weights_of(stage.model_from))
        else:
            cfg = self._label_cfg(stage, stage_dir)
        record = self._execute(stage, cfg, t0)
        return record

    def _execute(self, stage: Stage, cfg: Config, t0: Optional[float] = None) -> dict:
        t0 = time.perf_counter() if t0 is None else t0
        t1 = time.perf_counter()
        runner = Runner.from_cfg(cfg)
        t2 = time.perf_counter()
        timer = StageTimerHook()
        runner.register_hook(timer)
        record = dict(spec=stage.spec(), work_dir=cfg.work_dir, world_size=self.world_size)
        if stage.kind == 'train':
            head = cfg.model.get('head', {})
            record['setup'] = dict(
                load_from=cfg.load_from, resumed=bool(cfg.resume),
                train_cfg=dict(cfg.train_cfg),
                head={k: head[k] for k in ('pseudo_loss_weight', 'shrink_branch', 'shrink_p')
                      if k in head})
            runner.train()  # resume loads with mmssl.compat's allowlist (bytes included)
            t3 = time.perf_counter()
            record['num_train_samples'] = len(runner.train_dataloader.dataset)
            model = runner.model.module if is_model_wrapper(runner.model) else runner.model
            weights = osp.join(cfg.work_dir, WEIGHTS_FILE)
            if is_main_process():
                atomic_torch_save(dict(meta=dict(stage=stage.name, run_id=self.run_id),
                                       state_dict=weights_to_cpu(get_state_dict(model))),
                                  weights)
            del model
            barrier()
            record['weights'] = weights
        else:
            metrics = runner.test()
            t3 = time.perf_counter()
            record['metrics'] = {k: float(v) for k, v in metrics.items()}
            if stage.kind == 'label':
                record['pseudo_file'] = cfg.test_evaluator['out_file']
        t4 = time.perf_counter()
        total = t4 - t0
        record['timing'] = dict(config_s=t1 - t0, build_s=t2 - t1, run_s=t3 - t2,
                                save_s=t4 - t3, loop_s=timer.loop_s, total_s=total,
                                overhead_s=total - timer.loop_s)
        del runner
        gc.collect()
        return record

    def _train_cfg(self, stage: Stage, stage_dir: str) -> Config:
        s, facts = self.settings, self.facts
        cfg = sc.base_stage_cfg(self.cfg, stage, stage_dir, self.run_id)
        cfg.load_from = self._weights_of(stage.init) if stage.init else (
            self.cfg.get('load_from') if stage.round == 0 else None)
        last = osp.join(stage_dir, 'last_checkpoint')
        if s['resume_stage'] and osp.isfile(last):
            with open(last) as f:
                ckpt = f.read().strip()
            if osp.isfile(ckpt):
                cfg.resume, cfg.load_from = True, ckpt
        labeled = sc.labeled_dataset(self.cfg)
        labeled_os = sc.oversampled(copy.deepcopy(labeled), facts['num_labeled'],
                                    s['labeled_min_size'] if stage.labeled_oversample else 0)
        if stage.data == 'labeled':
            dataset = labeled_os
        else:
            record = self.completed[stage.pseudo_from]
            sigma = None
            if stage.source_aware and facts['shrink_kind'] == 'heatmap_sigma':
                sigma = stage.shrink_value
            pseudo = sc.pseudo_dataset(labeled, self.unlabeled, record['pseudo_file'],
                                       source_aware=stage.source_aware, sigma=sigma)
            if stage.data == 'pseudo':
                dataset = pseudo
            elif record['metrics'].get('pseudo/num_labels', 1) > 0:
                dataset = dict(type='ConcatDataset', datasets=[labeled_os, pseudo])
            else:
                self.logger.warning(f'[{stage.name}] no pseudo-label survived selection: '
                                    'training on the labeled set only')
                dataset = labeled_os
        cfg.train_dataloader = sc.sanitize_loader(cfg.train_dataloader)
        cfg.train_dataloader.dataset = dataset
        if stage.source_aware:
            self._set_head_shrink(cfg, stage)
        sc.scale_schedule(cfg, stage.schedule_scale)
        if not s['stage_val']:
            sc.drop_validation(cfg)
        elif cfg.get('val_dataloader'):
            cfg.val_dataloader = sc.sanitize_loader(cfg.val_dataloader)
        cfg.test_dataloader = cfg.test_cfg = cfg.test_evaluator = None
        return cfg

    def _set_head_shrink(self, cfg: Config, stage: Stage) -> None:
        """lambda and the shrink output of a source-aware stage (``shrink_value=None``: the
        pseudo-labels are weighted but trained like ground truth, through the main output)."""
        head = cfg.model.head
        head.pseudo_loss_weight = stage.pseudo_weight
        head.shrink_branch = trains_shrink_output(stage, self.facts['standard_value'])
        if stage.shrink_value is not None and self.facts['shrink_kind'] == 'lp':
            head.shrink_p = stage.shrink_value

    def _eval_cfg(self, stage: Stage, stage_dir: str, weights: str) -> Config:
        cfg = sc.base_stage_cfg(self.cfg, stage, stage_dir, self.run_id)
        loader, evaluator = sc.eval_loader_and_evaluator(self.cfg)
        if loader is None:
            raise ValueError('evaluation needs test_dataloader/test_evaluator (or val_*)')
        sc.drop_training(cfg)
        cfg.test_dataloader = sc.sanitize_loader(loader)
        cfg.test_evaluator = copy.deepcopy(evaluator)
        cfg.test_cfg = cfg.get('test_cfg') or dict()
        cfg.load_from = weights
        return cfg

    def _label_cfg(self, stage: Stage, stage_dir: str) -> Config:
        s = self.settings
        cfg = self._eval_cfg(stage, stage_dir, self._weights_of(stage.model_from))
        loader = copy.deepcopy(dict(cfg.test_dataloader))
        loader.update(copy.deepcopy(s['unlabeled_dataloader'] or {}))
        loader.update(sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
                      dataset=copy.deepcopy(self.unlabeled), drop_last=False)
        cfg.test_dataloader = sc.sanitize_loader(loader)
        out_file = osp.join(stage_dir, f'pseudo_labels_round{stage.round}.json')
        cfg.test_evaluator = dict(type='PseudoLabelWriter',
                                  source_ann_file=self.facts['unlabeled_file'],
                                  out_file=out_file, score_thr=stage.score_thr,
                                  gt_ann_file=self.facts['gt_file'])
        cfg.model.setdefault('test_cfg', dict())
        cfg.model.test_cfg.flip_test = bool(s['pseudo_flip_test'])
        cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
            dict(type='PseudoLabelProgressHook')]
        return cfg

    # ------------------------------------------------------------------ logging
    @property
    def visualizer(self) -> Visualizer:
        if self._visualizer is None:
            vis = self.cfg.get('visualizer') or {}
            self._visualizer = Visualizer(
                name=f'self_training_vis_{self.run_id}',
                vis_backends=copy.deepcopy(vis.get('vis_backends')) or [
                    dict(type='LocalVisBackend')],
                save_dir=osp.join(self.work_dir, 'self_training_summary', self.timestamp))
        return self._visualizer

    def _log_round_scalars(self, stage: Stage, record: dict) -> None:
        if stage.kind == 'train' or not record.get('metrics'):
            return
        prefix = 'test' if stage.kind == 'eval' else 'pseudo'
        scalars = {f'self_training/{prefix}_{k.split("/")[-1]}': v
                   for k, v in record['metrics'].items()}
        if is_main_process():
            self.visualizer.add_scalars(scalars, step=stage.round)
