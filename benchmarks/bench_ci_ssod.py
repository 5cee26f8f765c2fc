"""Iteration time of CI-SSOD (GbR + GbT + CrS records) / plain Soft Teacher, same batch.

    python benchmarks/bench_ci_ssod.py [--config CONFIG] [--iters 20] [--warmup 3]
        [--device cpu|cuda] [--out result.json]

Both models are built from the same config (default: the synthetic tiny CI-SSOD config; any
configs/ci_ssod Soft Teacher config works): the baseline is mmdet's ``SoftTeacher`` with
``CrossEntropyLoss``; ours is ``CISoftTeacher`` with ``GbRCrossEntropyLoss`` past warm-up
(weights applied), GbT past warm-up and pseudo-label recording on. Both get the same weights
and the same batch; the learning rate is 0 so every iteration does the same work. One
iteration = ``train_step`` (teacher pass, losses, backward, optimizer step) plus, for ours,
the per-iteration statistics updates done by ``CISSODStatisticsHook`` / ``CrSRefreshHook``
(GbR matrix update and weight solve, GbT update, draining the pseudo-label records). The two
models alternate iteration by iteration; the ratios of the median, minimum and mean times
and the median of the per-iteration ratios (ours / baseline of the same iteration, run
back to back) are printed (target <= 1.05). On a shared CPU the paired median and the
minimum are the least noisy.
"""
import argparse
import copy
import json
import os
import os.path as osp
import sys
import tempfile
import time

import numpy as np
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT = osp.join(ROOT, 'configs/ci_ssod/synthetic/ci-ssod_soft-teacher_r18-tiny_synthetic.py')


def build_models(cfg: Config, device: str):
    init_default_scope('mmdet')
    ours_cfg = copy.deepcopy(cfg.model)
    ours_cfg.type = 'CISoftTeacher'
    loss_cls = ours_cfg.detector.roi_head.bbox_head.loss_cls
    if loss_cls.get('type') != 'GbRCrossEntropyLoss':
        raise ValueError('the config must use GbRCrossEntropyLoss (a configs/ci_ssod ci-ssod '
                         f"config), got {loss_cls.get('type')}")
    loss_cls.reweight = True
    ours_cfg.semi_train_cfg.gbt = dict(ours_cfg.semi_train_cfg.get('gbt', {}), enable=True)
    base_cfg = copy.deepcopy(cfg.model)
    base_cfg.type = 'SoftTeacher'
    base_cfg.semi_train_cfg.pop('gbt', None)
    base_cfg.detector.roi_head.bbox_head.loss_cls = dict(
        type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)
    ours, base = MODELS.build(ours_cfg), MODELS.build(base_cfg)
    base.load_state_dict(ours.state_dict(), strict=False)
    ours.gbr_loss.grad_stats.num_updates.fill_(ours.gbr_loss.warmup_iters)  # past warm-up
    ours.gbt.num_updates.fill_(ours.gbt.warmup_iters)
    ours.record_pseudo_labels = True
    return ours.to(device), base.to(device)


def ours_hook_work(model) -> None:
    """What CISSODStatisticsHook and CrSRefreshHook do per iteration (single process)."""
    model.gbr_loss.step()
    model.gbr_loss.gradient_norms()
    model.step_ci_statistics()
    model.pop_pseudo_label_records()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=DEFAULT)
    parser.add_argument('--iters', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--data-root', default=None,
                        help='synthetic data folder (generated if missing); only for the '
                        'synthetic default config')
    parser.add_argument('--out', default=None, help='also write the results as JSON')
    args = parser.parse_args()
    import mmssl  # noqa: F401
    from mmssl.datasets.synthetic_detection import generate_synthetic_detection
    cfg = Config.fromfile(args.config)
    if args.config == DEFAULT:
        root = args.data_root or osp.join(tempfile.gettempdir(), 'ci_ssod_bench_data')
        if not osp.isfile(osp.join(root, 'meta.json')):
            generate_synthetic_detection(root, num_train=40, num_labeled=10, num_val=4)
        for ds in cfg.train_dataloader.dataset.datasets:
            ds.data_root = root + '/'
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    init_default_scope('mmdet')
    batch = next(iter(Runner.build_dataloader(cfg.train_dataloader, seed=0)))
    ours, base = build_models(cfg, args.device)
    wrappers = {name: OptimWrapper(torch.optim.SGD(m.parameters(), lr=0.0, momentum=0.9))
                for name, m in (('ours', ours), ('base', base))}
    times = {'ours': [], 'base': []}
    hook_times = []
    sync = torch.cuda.synchronize if args.device.startswith('cuda') else (lambda: None)
    for it in range(args.warmup + args.iters):
        order = (('base', base), ('ours', ours)) if it % 2 else (('ours', ours),
                                                                  ('base', base))
        for name, model in order:
            data = copy.deepcopy(batch)
            torch.manual_seed(it)
            sync()
            start = time.perf_counter()
            model.train_step(data, wrappers[name])
            if name == 'ours':
                sync()
                hook_start = time.perf_counter()
                ours_hook_work(model)
                sync()
                if it >= args.warmup:
                    hook_times.append(time.perf_counter() - hook_start)
            sync()
            if it >= args.warmup:
                times[name].append(time.perf_counter() - start)
    med = {k: float(np.median(v)) for k, v in times.items()}
    result = dict(
        config=osp.relpath(args.config, ROOT), device=args.device, iters=args.iters,
        median_s=med, mean_s={k: float(np.mean(v)) for k, v in times.items()},
        min_s={k: float(np.min(v)) for k, v in times.items()},
        hook_median_s=float(np.median(hook_times)),
        ratio_median=med['ours'] / med['base'],
        ratio_min=float(np.min(times['ours']) / np.min(times['base'])),
        ratio_mean=float(np.mean(times['ours']) / np.mean(times['base'])),
        ratio_paired_median=float(np.median(np.array(times['ours']) / np.array(times['base']))))
    print(f"device={args.device} iters={args.iters}  Soft Teacher {med['base']*1e3:.1f} ms  "
          f"CI-SSOD {med['ours']*1e3:.1f} ms (of which statistics hooks "
          f"{result['hook_median_s']*1e3:.2f} ms)  ratio median {result['ratio_median']:.3f}  "
          f"min {result['ratio_min']:.3f}  mean {result['ratio_mean']:.3f}  "
          f"paired median {result['ratio_paired_median']:.3f}")
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=osp.dirname(osp.abspath(args.out)))
        with os.fdopen(fd, 'w') as f:
            json.dump(result, f, indent=1)
        os.replace(tmp, args.out)


if __name__ == '__main__':
    sys.exit(main())
