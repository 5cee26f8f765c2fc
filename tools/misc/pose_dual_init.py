"""Write a PoseDual start checkpoint from two supervised MMPose checkpoints: ``net1`` gets the
weights of NET1, ``net2`` those of NET2; ``load_from`` it in a PoseDual config.

    python tools/misc/pose_dual_init.py NET1.pth NET2.pth --out INIT.pth

A plain checkpoint given directly as ``load_from`` loads into both networks
(``PoseDual._load_from_state_dict``). The two networks then see the same labeled batch, the
same hard view and each other's identical heatmaps, so without Joint Cutout (the only per-
network random draw) they stay identical and PoseDual degenerates into one self-teaching
network. Two supervised models trained with different seeds keep the networks different, like
the separately trained networks the seed starts from.
"""
import argparse
import os
import os.path as osp
from collections import OrderedDict
from typing import Dict, Sequence

import torch

NETWORKS = ('net1', 'net2')


def _state_dict(path: str) -> Dict[str, torch.Tensor]:
    from mmengine.runner import CheckpointLoader
    if not osp.isfile(path):
        raise FileNotFoundError(f'pose_dual_init: checkpoint {path} does not exist')
    ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    state = ckpt.get('state_dict', ckpt)
    state = OrderedDict((k[len('module.'):] if k.startswith('module.') else k, v)
                        for k, v in state.items())
    nested = sorted({k.split('.')[0] for k in state} & set(NETWORKS))
    if nested:
        raise ValueError(f'pose_dual_init: {path} already holds PoseDual networks {nested}; '
                         'give plain estimator checkpoints (tools/misc/extract_submodel.py '
                         'exports one network)')
    return state


def pose_dual_init(checkpoints: Sequence[str], out: str) -> str:
    """Write ``out`` with ``net<i>.<key>`` = ``checkpoints[i - 1][key]``; returns ``out``.

    Raises:
        ValueError: when the checkpoints are not two estimators of the same architecture.
    """
    if len(checkpoints) != len(NETWORKS):
        raise ValueError(f'pose_dual_init: need {len(NETWORKS)} checkpoints (one per network), '
                         f'got {len(checkpoints)}')
    states = [_state_dict(path) for path in checkpoints]
    first, second = states
    if set(first) != set(second):
        diff = sorted(set(first) ^ set(second))
        raise ValueError(f'pose_dual_init: {checkpoints[0]} and {checkpoints[1]} have '
                         f'different keys (e.g. {diff[:3]}): not the same architecture')
    shapes = [k for k in first if first[k].shape != second[k].shape]
    if shapes:
        raise ValueError(f'pose_dual_init: {checkpoints[0]} and {checkpoints[1]} differ in the '
                         f'shape of {shapes[:3]}: not the same architecture')
    merged = OrderedDict()
    for name, state in zip(NETWORKS, states):
        for key, value in state.items():
            merged[f'{name}.{key}'] = value
    meta = dict(pose_dual_init={name: osp.abspath(path)
                                for name, path in zip(NETWORKS, checkpoints)})
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    tmp = f'{out}.tmp{os.getpid()}'
    torch.save(dict(meta=meta, state_dict=merged), tmp)
    os.replace(tmp, out)  # never a half-written checkpoint
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoints', nargs=2, metavar=('NET1', 'NET2'),
                        help='supervised checkpoints of the same estimator')
    parser.add_argument('--out', required=True, help='the PoseDual checkpoint to write')
    args = parser.parse_args()
    import mmssl  # noqa: F401  (safe loading of mmengine checkpoints under torch >= 2.6)
    try:
        print(pose_dual_init(args.checkpoints, args.out))
    except (FileNotFoundError, ValueError) as err:
        parser.exit(2, f'{err}\n')


if __name__ == '__main__':
    main()
