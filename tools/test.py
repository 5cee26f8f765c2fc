"""Evaluate a checkpoint with an OpenMMLab config (same interface as MMPose's tools/test.py).

A config with ``runner_type`` (e.g. STLD's ``SelfTrainingRunner``) is built through mmengine's
RUNNERS and tested with that runner's ``test()``, which evaluates CHECKPOINT as the job's own
evaluation stages do.
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner


def parse_args():
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save evaluation results and logs')
    parser.add_argument('--out', help='dump the metrics to this file (.json/.pkl)')
    parser.add_argument('--dump', help='dump the predictions to this pickle file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, key=value (xxx=yyy format)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.launcher = args.launcher
    cfg.load_from = args.checkpoint
    cfg.resume = False
    if args.dump is not None:
        if not args.dump.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--dump must be a .pkl file, got {args.dump}')
        evaluator = cfg.test_evaluator
        evaluators = evaluator if isinstance(evaluator, list) else [evaluator]
        evaluators.append(dict(type='DumpResults', out_file_path=args.dump))
        cfg.test_evaluator = evaluators
    import mmssl  # noqa: F401
    from mmssl.engine.distributed import finish_distributed, prepare_cpu_distributed
    prepare_cpu_distributed(cfg, args.launcher)
    if 'runner_type' in cfg:
        runner = RUNNERS.build(cfg)
        if not callable(getattr(runner, 'test', None)):
            raise TypeError(
                f'{cfg.runner_type} (runner_type of {args.config}) has no test(); export the '
                f'trained network as a plain model and test that: python '
                f'tools/misc/extract_submodel.py {args.config} {args.checkpoint} --out OUT && '
                'python tools/test.py OUT.py OUT.pth')
    else:
        runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    if args.out is not None and getattr(runner, 'rank', 0) == 0:
        from mmengine.fileio import dump
        tmp = f'{args.out}.tmp{os.getpid()}'
        dump(metrics, tmp, file_format=os.path.splitext(args.out)[1][1:] or 'json')
        os.replace(tmp, args.out)  # never a half-written metrics file
    del runner  # release the DDP wrappers before the process group goes down
    finish_distributed()


if __name__ == '__main__':
    main()
