"""Export one network of an mmssl training config as a plain MMPose/MMDetection model.

Writes ``OUT.py`` (a plain test/inference config: the network's model, mmengine
ValLoop/TestLoop, its test pipeline and evaluator, no training parts or ``runner_type``) and
``OUT.pth`` (the network's weights, ``meta`` with ``dataset_meta``), which ``tools/test.py``,
``mmpose.apis.init_model`` and ``mmdet.apis.init_detector`` load unchanged.

    python tools/misc/extract_submodel.py CONFIG CHECKPOINT --module net1 --out work_dirs/net1
    python tools/misc/extract_submodel.py CONFIG --list    # the networks CONFIG can export

Modules per regime (default first): PoseDual ``net1``/``net2``, PoseCons ``net1``,
adversarial augmentation ``pose``, Soft Teacher / CI-SSOD ``teacher``/``student``, lifting
``pose2d``/``pose3d``, self-training (STLD) ``final`` (CHECKPOINT: the job's work_dir or its
``final_model.pth``). The table is ``mmssl.engine.submodel_export.REGIMES``.
"""
import argparse
import sys
from typing import Optional, Tuple, Union

from mmengine.config import Config


def extract(config: Union[str, Config], checkpoint: str, module: Optional[str],
            out: str) -> Tuple[str, str]:
    """See :func:`mmssl.engine.submodel_export.extract` (kept here for scripts)."""
    from mmssl.engine.submodel_export import extract as _extract
    return _extract(config, checkpoint, module, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='the training config')
    parser.add_argument('checkpoint', nargs='?', help='its checkpoint (self-training: the '
                        'work_dir or final_model.pth)')
    parser.add_argument('--module', help='network to export (default: the regime\'s, e.g. '
                        'net1, teacher); --list shows them')
    parser.add_argument('--out', help='output path without extension (writes OUT.py, OUT.pth)')
    parser.add_argument('--list', action='store_true', help='list the exportable networks')
    args = parser.parse_args()
    import mmssl  # noqa: F401  (registration, safe checkpoint loading)
    from mmssl.engine.submodel_export import ExportError, available_modules
    try:
        if args.list:
            for name, doc in available_modules(Config.fromfile(args.config),
                                               args.config).items():
                print(f'{name}\t{doc}')
            return
        if not args.checkpoint or not args.out:
            parser.error('CHECKPOINT and --out are required (or --list)')
        for path in extract(args.config, args.checkpoint, args.module, args.out):
            print(path)
    except ExportError as err:
        print(f'extract_submodel.py: error: {err}', file=sys.stderr)
        sys.exit(2)


if __name__ == '__main__':
    main()
