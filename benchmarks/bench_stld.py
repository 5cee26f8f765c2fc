"""Benchmark the STLD self-training runner.

1. Pseudo-labelling throughput / MMPose test-loop throughput, same model, same images, same
   loader settings, measured side by side in one process (interleaved repeats, median).
   "MMPose test loop" = ``Runner.test()`` with the dataset's own class and mmpose's ``NME``
   metric; "pseudo-labelling" = the runner's label stage (``UnlabeledTopDownDataset`` +
   :class:`PseudoLabelWriter`, which also writes the COCO file). Both without flip test (the
   paper's pseudo-labelling uses none). Only the loops are timed (``StageTimerHook``).
2. The runner's own overhead per stage of a short job: wall time of each stage minus the time
   inside mmengine's train/test loop, split into building the stage config, building the
   mmengine Runner (model, logger, config dump: the cost of "every stage is an ordinary
   mmengine run") and saving the stage weights.

Data: the synthetic 300W-format faces (``python tools/misc/make_synthetic_data.py``).

    OMP_NUM_THREADS=1 python benchmarks/bench_stld.py --num-images 256 --repeats 3
"""
import argparse
import copy
import json
import os
import os.path as osp
import statistics
import sys
import tempfile
import time

import torch
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = osp.join(REPO, 'configs/stld/synthetic/'
                  'stld-hm_res18-w16_1xb16-30e_synthetic-faces-l30-128x128.py')


def _subset(src: str, n: int, dst: str, strip: bool) -> str:
    with open(src) as f:
        coco = json.load(f)
    coco['images'] = coco['images'][:n]
    ids = {im['id'] for im in coco['images']}
    coco['annotations'] = [dict(a) for a in coco['annotations'] if a['image_id'] in ids]
    if strip:
        for a in coco['annotations']:
            a['keypoints'] = [0] * len(a['keypoints'])
            a['num_keypoints'] = 0
    with open(dst, 'w') as f:
        json.dump(coco, f)
    return dst


def _job_cfg(args, work_dir: str, files: dict) -> Config:
    cfg = Config.fromfile(CONFIG)
    cfg.work_dir = work_dir
    root = osp.join(REPO, 'data/synthetic/faces/')
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].dataset.data_root = root
        cfg[key].update(num_workers=args.workers, persistent_workers=False)
    cfg.test_dataloader.update(batch_size=args.batch_size)
    cfg.train_dataloader.dataset.ann_file = files['labeled']
    cfg.test_dataloader.dataset.update(ann_file=files['labeled_test'],
                                       data_prefix=dict(img='images/train/'))
    cfg.self_training.update(
        unlabeled_ann_file=files['unlabeled'], num_rounds=1, curriculum=[],
        labeled_min_size=0, pseudo_gt_ann_file=None,
        unlabeled_dataloader=dict(batch_size=args.batch_size, num_workers=args.workers))
    cfg.train_cfg.max_epochs = args.epochs
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True)]
    cfg.model.test_cfg.flip_test = False
    cfg.default_hooks.logger.interval = 10**6
    return cfg


def bench_throughput(args, runner, weights: str, n: int) -> dict:
    """Median loop time of mmpose's test loop and of the label stage, interleaved."""
    from mmssl.engine.runners.self_training_plan import Stage
    test_s, label_s = [], []
    for i in range(args.repeats):
        stage = Stage(f'bench_test_{i}', 'eval', 0)
        cfg = runner._eval_cfg(stage, osp.join(runner.work_dir, stage.name), weights)
        cfg.test_evaluator = dict(type='NME', norm_mode='keypoint_distance')
        test_s.append(runner._execute(stage, cfg)['timing']['loop_s'])
        stage = Stage(f'bench_label_{i}', 'label', 0, model_from='round0_supervised')
        cfg = runner._label_cfg(stage, osp.join(runner.work_dir, stage.name))
        label_s.append(runner._execute(stage, cfg)['timing']['loop_s'])
    t_test, t_label = statistics.median(test_s), statistics.median(label_s)
    return dict(images=n, test_loop_s=test_s, label_loop_s=label_s,
                test_img_per_s=n / t_test, label_img_per_s=n / t_label,
                ratio=t_test / t_label)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-images', type=int, default=256)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--workers', type=int, default=1)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--epochs', type=int, default=1, help='epochs of each train stage')
    parser.add_argument('--work-dir', default=None)
    args = parser.parse_args()
    import mmssl  # noqa: F401
    from mmssl.engine.runners import SelfTrainingRunner

    torch.manual_seed(0)
    src = osp.join(REPO, 'data/synthetic/faces/annotations/face_landmarks_train.json')
    if not osp.isfile(src):
        sys.exit(f'{src} missing: run python tools/misc/make_synthetic_data.py')
    work = args.work_dir or tempfile.mkdtemp(prefix='bench_stld_')
    os.makedirs(work, exist_ok=True)
    n = args.num_images
    files = dict(labeled=_subset(src, 32, osp.join(work, 'labeled.json'), False),
                 labeled_test=_subset(src, n, osp.join(work, 'images_gt.json'), False),
                 unlabeled=_subset(src, n, osp.join(work, 'images.json'), True))
    cfg = _job_cfg(args, osp.join(work, 'job'), files)
    cfg.self_training.eval_each_round = False
    runner = SelfTrainingRunner(cfg)
    t0 = time.perf_counter()
    records = runner.train()  # the overhead part: a whole T=1 job
    job_s = time.perf_counter() - t0

    print(f'== stage overhead (T=1 job, {len(records)} stages, {job_s:.1f}s wall) ==')
    print('| stage | total s | in mmengine loop s | overhead s | config s | Runner build s '
          '| save s |')
    print('|---|---|---|---|---|---|---|')
    for name, rec in records.items():
        t = rec['timing']
        print(f'| {name} | {t["total_s"]:.2f} | {t["loop_s"]:.2f} | {t["overhead_s"]:.2f} | '
              f'{t["config_s"]:.3f} | {t["build_s"]:.2f} | {t["save_s"]:.3f} |')
    over = [r['timing']['overhead_s'] for r in records.values()]
    own = [r['timing']['config_s'] + r['timing']['save_s'] for r in records.values()]
    print(f'mean overhead per stage {statistics.mean(over):.2f}s, of which the runner\'s own '
          f'(config + weight save) {statistics.mean(own):.3f}s; the rest is mmengine Runner '
          'construction and loop set-up')

    weights = records['round0_supervised']['weights']
    res = bench_throughput(args, runner, weights, n)
    print(f'== pseudo-labelling vs MMPose test loop ({n} images, batch {args.batch_size}, '
          f'{args.workers} worker(s), {args.repeats} interleaved repeats) ==')
    print(f'mmpose test loop : {res["test_img_per_s"]:.1f} img/s  loops {res["test_loop_s"]}')
    print(f'pseudo-labelling : {res["label_img_per_s"]:.1f} img/s  loops {res["label_loop_s"]}')
    print(f'throughput ratio (pseudo-labelling / test loop): {res["ratio"]:.3f} '
          '(target >= 0.95)')
    print(json.dumps(dict(copy.deepcopy(res), job_s=job_s, overhead_mean_s=statistics.mean(over))))


if __name__ == '__main__':
    main()
