"""Distributed launch on machines without CUDA (gloo), identical to GPUs otherwise.

mmengine's ``init_dist('pytorch')`` calls ``torch.cuda.set_device`` and the Runner wraps the
model with ``device_ids=[LOCAL_RANK]``; both fail on a CPU-only node. When no GPU is present
we initialise the process group with gloo before the Runner is built (the Runner then skips
its own initialisation) and let DDP wrap the CPU model with ``device_ids=None``. On GPU
nodes nothing changes.
"""
import gc
import os

import torch
import torch.distributed as torch_dist
from mmengine.config import Config


def prepare_cpu_distributed(cfg: Config, launcher: str) -> bool:
    """Set up gloo DDP for ``launcher`` when CUDA is unavailable.

    Args:
        cfg: the config the Runner will be built from (``model_wrapper_cfg`` is set).
        launcher: ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.

    Returns:
        bool: whether a CPU process group was initialised here.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher != 'pytorch':
        raise RuntimeError(f'launcher={launcher!r} needs CUDA; on a CPU-only machine use '
                           '--launcher pytorch (tools/dist_train.sh does)')
    if not torch_dist.is_initialized():
        for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
            if key not in os.environ:
                raise RuntimeError(f'--launcher pytorch needs ${key}: start with torchrun '
                                   '(tools/dist_train.sh)')
        torch_dist.init_process_group(backend='gloo')
    wrapper = dict(cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel'))
    wrapper.setdefault('broadcast_buffers', False)
    wrapper.setdefault('find_unused_parameters', cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    cfg.launcher = launcher
    return True


def finish_distributed() -> None:
    """Tear the process group down before the interpreter exits: a gloo group left to the
    interpreter's shutdown can abort a rank ("terminate called without an active
    exception") after training finished, failing the launcher."""
    if torch_dist.is_available() and torch_dist.is_initialized():
        gc.collect()  # DDP reducers still holding the group
        torch_dist.barrier()
        torch_dist.destroy_process_group()
