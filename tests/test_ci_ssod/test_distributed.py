"""DDP (gloo, 2 CPU processes): all-reduced statistics equal one process seeing the batch."""
import os.path as osp

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from mmssl.engine.distributed import finish_distributed
from mmssl.engine.hooks.ci_ssod_crs_hook import CrSRefreshHook
from mmssl.models.detectors import ClassWiseThresholds, GbRCrossEntropyLoss

NUM_CLASSES = 4


def _data():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 40, NUM_CLASSES + 1, generator=g)  # 2 iterations
    labels = torch.randint(0, NUM_CLASSES + 1, (2, 40), generator=g)
    weights = torch.rand(2, 40, generator=g)
    scores = torch.rand(2, 30, generator=g)
    det_labels = torch.randint(0, NUM_CLASSES, (2, 30), generator=g)
    return logits, labels, weights, scores, det_labels


def _run(parts, rank=0):
    """Two iterations of GbR + GbT statistics on the given slices of the data."""
    logits, labels, weights, scores, det_labels = _data()
    gbr = GbRCrossEntropyLoss(NUM_CLASSES, warmup_iters=1, solver='jacobi')
    gbt = ClassWiseThresholds(NUM_CLASSES, warmup_iters=1, num_init=4)
    for it in range(2):
        for sl in parts:
            half = slice(sl.start, sl.start + (sl.stop - sl.start) // 2)
            rest = slice(half.stop, sl.stop)
            with gbr.branch('sup'):
                gbr(logits[it, half], labels[it, half], weights[it, half])
            with gbr.branch('unsup'):
                gbr(logits[it, rest], labels[it, rest], weights[it, rest])
            det = slice(sl.start * 30 // 40, sl.stop * 30 // 40)
            gbt.observe(det_labels[it, det], scores[it, det])
            gbt.count_pseudo_labels(det_labels[it, det])
        gbr.step()
        gbt.step(gbr.class_weights)
    return dict(matrix=gbr.grad_stats.matrix, weights=gbr.class_weights,
                norm=gbr.weight_norm, scores=gbt.mean_scores, thr=gbt.get(),
                counts=gbt.last_pseudo_counts)


def _worker(rank, tmp):
    dist.init_process_group('gloo', init_method=f'file://{tmp}/init', rank=rank,
                            world_size=2)
    # each rank sees its own quarters of the batch (its half split into sup / unsup)
    parts = [slice(0, 20)] if rank == 0 else [slice(20, 40)]
    out = _run(parts, rank)
    hook = CrSRefreshHook(interval=1)
    hook._pending = {10 + rank: (np.array([rank]), np.array([0.1 * rank], np.float32))}
    hook._gather()
    out['store'] = sorted(hook.store)
    torch.save(out, osp.join(tmp, f'rank{rank}.pth'))
    finish_distributed()


def test_all_reduce_matches_single_process(tmp_path):
    mp.spawn(_worker, args=(str(tmp_path), ), nprocs=2, join=True)
    # the single process sees the same RoIs: both ranks' sup parts, both unsup parts
    single = _run([slice(0, 20), slice(20, 40)])
    for rank in range(2):
        out = torch.load(tmp_path / f'rank{rank}.pth', weights_only=False)
        for key in ('matrix', 'weights', 'norm', 'scores', 'thr', 'counts'):
            assert torch.allclose(out[key], single[key], atol=1e-6), (rank, key)
        assert out['store'] == [10, 11]
    assert not torch.equal(single['weights'], torch.ones(NUM_CLASSES + 1))
