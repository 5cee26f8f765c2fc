"""Run under torchrun by test_pose_dual.py: train a PoseDual config under DDP as
tools/train.py does, then write what every rank holds (wrapper types, a checksum of each
network's parameters, the run's seed and a checksum of the hard views the model draws at
step 5 from a fixed batch, twice) to the JSON file given as the second argument."""
import json
import sys

import torch

from mmengine.config import Config
from mmengine.dist import all_gather_object, get_rank
from mmengine.runner import Runner

from mmssl.engine.distributed import finish_distributed, prepare_cpu_distributed


def hard_view_checksums(pose_dual) -> list:
    """Checksums of the students' hard views of one fixed easy batch at step 5."""
    easy = torch.linspace(-1, 1, 2 * 3 * 32 * 32).reshape(2, 3, 32, 32)
    with torch.no_grad():
        _, students = pose_dual._consistency_targets(easy, None, step=5)
    return [float(x.double().abs().sum()) for x, _ in students]


def main(config: str, out: str) -> None:
    cfg = Config.fromfile(config)
    cfg.launcher = 'pytorch'
    prepare_cpu_distributed(cfg, 'pytorch')
    runner = Runner.from_cfg(cfg)
    runner.train()
    pose_dual = runner.model.module
    state = dict(
        wrapper=type(runner.model).__name__,
        nets=[type(getattr(pose_dual, n)).__name__ for n in pose_dual.net_names],
        checksums=[float(sum(p.double().abs().sum() for p in net.parameters()))
                   for net in pose_dual.nets],
        iter=runner.iter,
        seed=torch.initial_seed(),
        hard_views=[hard_view_checksums(pose_dual) for _ in range(2)])
    states = all_gather_object(state)
    if get_rank() == 0:
        with open(out, 'w') as f:
            json.dump(states, f)
    del runner, pose_dual
    finish_distributed()


if __name__ == '__main__':
    main(*sys.argv[1:3])
