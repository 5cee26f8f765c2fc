"""MixedRatioSampler in a real 2-process gloo group: ranks see disjoint samples."""
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.utils.data import ConcatDataset, TensorDataset


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _worker(rank, world_size, port, out):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=world_size)
    try:
        from mmssl.datasets import MixedRatioSampler
        ds = ConcatDataset([TensorDataset(torch.arange(40)), TensorDataset(torch.arange(7))])
        sampler = MixedRatioSampler(ds, batch_size=4, source_ratio=[1, 1])  # seed synced
        sampler.set_epoch(3)
        idx = torch.tensor(list(sampler))
        gathered = [torch.zeros_like(idx) for _ in range(world_size)]
        dist.all_gather(gathered, idx)
        if rank == 0:
            out.put(torch.stack(gathered).tolist())
    finally:
        from mmssl.engine.distributed import finish_distributed
        finish_distributed()  # barrier first: no rank tears gloo down while its peer talks


def test_ranks_draw_disjoint_labeled_samples_in_ddp():
    ctx = mp.get_context('spawn')
    out = ctx.Queue()
    mp.start_processes(_worker, args=(2, _free_port(), out), nprocs=2, join=True,
                       start_method='spawn')
    per_rank = torch.tensor(out.get())  # [rank, batch * 4]
    batches = per_rank.view(2, -1, 4)
    assert batches.shape[1] == 40 // (2 * 2)  # labeled (40, 2 per rank batch) defines it
    labeled = batches[:, :, :2].reshape(-1)
    assert len(set(labeled.tolist())) == 40  # every labeled sample once over both ranks
    assert (batches[:, :, 2:] >= 40).all()
