"""Export a trained augmentation network's (G's) distributions for the pipeline transforms.

Runs G of an ``AdversarialPoseEstimator`` checkpoint over the first ``--num-batches`` batches
of the config's train dataloader (standard crops, as G sees them in training), averages its
predicted scale, rotation and occlusion distributions and writes an augmentation-distribution
file (format: :mod:`mmssl.datasets.transforms.augmentation_distribution`) that
``BinnedScaleRotation`` and ``BinnedOcclusionCells`` read:

    python tools/misc/export_augmentation_distribution.py CONFIG CHECKPOINT \\
        --out work_dirs/g_distribution.json --num-batches 50
"""
import argparse
import itertools


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='an adversarial-augmentation training config')
    parser.add_argument('checkpoint', help='its checkpoint (with G trained)')
    parser.add_argument('--out', required=True, help='the .json file to write')
    parser.add_argument('--num-batches', type=int, default=50,
                        help='train batches to average over (0: the whole dataloader)')
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()

    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner, load_checkpoint
    from mmpose.registry import MODELS

    import mmssl  # noqa: F401  (registration, safe checkpoint loading)
    from mmssl.datasets.transforms.augmentation_distribution import export_distribution

    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    if cfg.model.get('type') != 'AdversarialPoseEstimator':
        raise SystemExit(f'{args.config}: the model is {cfg.model.get("type")}, not an '
                         'AdversarialPoseEstimator (no augmentation network to export)')
    model = MODELS.build(cfg.model).to(args.device)
    load_checkpoint(model, args.checkpoint, map_location=args.device)
    loader = Runner.build_dataloader(cfg.train_dataloader)

    def batches():
        for data in (loader if args.num_batches <= 0
                     else itertools.islice(loader, args.num_batches)):
            with torch.no_grad():
                yield model.data_preprocessor(data, False)['inputs']

    out = export_distribution(model, batches(), args.out,
                              source=f'{args.checkpoint} on {args.config} train data')
    print(f'wrote {args.out}: {out["source"]}')


if __name__ == '__main__':
    main()
