"""Distributed launch on machines without CUDA (gloo), identical to GPUs otherwise.

mmengine's ``init_dist('pytorch')`` / ``init_dist('slurm')`` call ``torch.cuda.set_device``
and the Runner wraps the model with ``device_ids=[LOCAL_RANK]``; both fail on a CPU-only
node. When no GPU is present we initialise the process group with gloo before the Runner is
built (the Runner then skips its own initialisation) and let DDP wrap the CPU model with
``device_ids=None``. Under ``srun`` the rank variables are derived from ``SLURM_*`` as
mmengine's ``_init_dist_slurm`` does. On GPU nodes nothing changes: mmengine initialises.
"""
import gc
import os
import re
import shutil
import subprocess
import warnings
from typing import Dict, Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config

_SLURM_KEYS = ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST')


def first_slurm_host(nodelist: str) -> str:
    """The first host name of a Slurm node list such as ``'gpu[03-05,9],cpu1'``.

    Uses ``scontrol show hostnames`` when it is installed (as mmengine does), otherwise
    expands the first entry itself: each bracket group is replaced by its first value.

    Args:
        nodelist: the value of ``SLURM_NODELIST`` / ``SLURM_JOB_NODELIST``.

    Returns:
        str: the first host, where rank 0 runs.
    """
    if shutil.which('scontrol'):
        out = subprocess.run(['scontrol', 'show', 'hostnames', nodelist],
                             capture_output=True, text=True)
        hosts = out.stdout.split()
        if out.returncode == 0 and hosts:
            return hosts[0]
    first = re.match(r'(?:[^,\[]|\[[^\]]*\])+', nodelist.strip())
    if first is None:
        raise ValueError(f'cannot read a host from SLURM_NODELIST={nodelist!r}')
    return re.sub(r'\[([^\]\-,]+)[^\]]*\]', r'\1', first.group(0))


def slurm_dist_env(port: Optional[int] = None) -> Dict[str, str]:
    """``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT`` of a task
    started by ``srun``, derived as mmengine's ``_init_dist_slurm`` does.

    ``MASTER_PORT`` is ``port`` if given, else ``$MASTER_PORT``, else 29500; an existing
    ``$MASTER_ADDR`` is kept, else the first host of ``$SLURM_NODELIST`` is the master.

    Args:
        port: the master port (``env_cfg.dist_cfg.port`` of the config).

    Returns:
        dict: the variables ``torch.distributed``'s ``env://`` initialisation reads.
    """
    missing = [k for k in _SLURM_KEYS if k not in os.environ]
    if missing:
        raise RuntimeError(f'--launcher slurm needs ${missing[0]}: start the job with srun '
                           '(tools/slurm_train.sh, tools/slurm_test.sh)')
    proc_id = int(os.environ['SLURM_PROCID'])
    local_id = os.environ.get('SLURM_LOCALID')
    if local_id is None:  # not set by srun in some set-ups: tasks filled node by node
        per_node = os.environ.get('SLURM_NTASKS_PER_NODE', '1').split('(')[0]
        local_id = str(proc_id % max(int(per_node), 1))
    if port is not None:
        master_port = str(port)
    else:
        master_port = os.environ.get('MASTER_PORT', '29500')
    return dict(
        RANK=str(proc_id),
        WORLD_SIZE=os.environ['SLURM_NTASKS'],
        LOCAL_RANK=local_id,
        MASTER_ADDR=os.environ.get('MASTER_ADDR')
        or first_slurm_host(os.environ['SLURM_NODELIST']),
        MASTER_PORT=master_port)


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
    if launcher not in ('pytorch', 'slurm'):
        raise RuntimeError(f'launcher={launcher!r} needs CUDA; on a CPU-only machine use '
                           '--launcher pytorch (tools/dist_train.sh) or --launcher slurm '
                           '(tools/slurm_train.sh)')
    if not torch_dist.is_initialized():
        if launcher == 'slurm':
            dist_cfg = (cfg.get('env_cfg') or {}).get('dist_cfg') or {}
            os.environ.update(slurm_dist_env(dist_cfg.get('port')))
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
    if cfg.get('sync_bn'):
        # torch's SyncBatchNorm runs on accelerators only: per-process BN statistics here
        warnings.warn(f'sync_bn={cfg.sync_bn!r} is ignored on a CPU-only machine (SyncBatchNorm '
                      'needs CUDA): each process normalises with its own batch statistics')
        cfg.sync_bn = None
    return True


def finish_distributed() -> None:
    """Tear the process group down before the interpreter exits: a gloo group left to the
    interpreter's shutdown can abort a rank ("terminate called without an active
    exception") after training finished, failing the launcher."""
    if torch_dist.is_available() and torch_dist.is_initialized():
        gc.collect()  # DDP reducers still holding the group
        torch_dist.barrier()
        torch_dist.destroy_process_group()
