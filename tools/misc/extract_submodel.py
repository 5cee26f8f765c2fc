"""Export one network of a multi-network model (PoseDual net1/net2, ...) as a plain model.

Writes a checkpoint whose ``state_dict`` is the sub-network's (``meta`` kept, so the dataset
metainfo travels along) and a config whose ``model`` is the sub-network's config, so
``mmpose.apis.init_model(OUT.py, OUT.pth)`` / ``tools/test.py`` load it like any MMPose model.

    python tools/misc/extract_submodel.py CONFIG CHECKPOINT --module net1 --out work_dirs/net1
"""
import argparse
import os
import os.path as osp

import torch
from mmengine.config import Config


def extract(config: str, checkpoint: str, module: str, out: str) -> tuple:
    cfg = Config.fromfile(config)
    sub_cfg_key = {'net1': 'estimator', 'net2': 'estimator2',
                   'pose': 'estimator'}.get(module, module)
    sub_cfg = cfg.model.get(sub_cfg_key) or (cfg.model.get('estimator')
                                             if module == 'net2' else None)
    if sub_cfg is None:
        raise KeyError(f'{config}: model has no config for {module!r} '
                       f'(looked for model.{sub_cfg_key})')
    ckpt = torch.load(checkpoint, map_location='cpu', weights_only=True)
    prefix = f'{module}.'
    state = {k[len(prefix):]: v for k, v in ckpt['state_dict'].items() if k.startswith(prefix)}
    if not state:
        raise KeyError(f'{checkpoint} has no weights under "{prefix}"')
    cfg.model = sub_cfg
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    cfg_path, ckpt_path = f'{out}.py', f'{out}.pth'
    cfg.dump(cfg_path + '.tmp.py')
    os.replace(cfg_path + '.tmp.py', cfg_path)
    torch.save(dict(state_dict=state, meta=ckpt.get('meta', {})), ckpt_path + '.tmp')
    os.replace(ckpt_path + '.tmp', ckpt_path)
    return cfg_path, ckpt_path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--module', default='net1', help='sub-module to export')
    parser.add_argument('--out', required=True, help='output path without extension')
    args = parser.parse_args()
    import mmssl  # noqa: F401  (safe checkpoint loading)
    for path in extract(args.config, args.checkpoint, args.module, args.out):
        print(path)


if __name__ == '__main__':
    main()
