"""Two processes (gloo, CPU): a whole T = 2 job runs under DDP, including round 2's shrink
output (the second 1x1 layer, trained on the pseudo-labeled samples of each rank's batches),
and every unlabeled annotation is pseudo-labeled exactly once in every round (5 annotations
over 2 ranks: an uneven shard, gathered on rank 0)."""
import json
import math
import os
import re
import socket
from pathlib import Path

import torch
import torch.multiprocessing as mp
from mmengine.config import Config

from stld_helpers import make_face_data, single_thread, tiny_cfg  # noqa: F401


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, cfg_path: str) -> None:
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world), LOCAL_RANK=str(rank), OMP_NUM_THREADS='1')
    torch.set_num_threads(1)
    import mmssl  # noqa: F401
    from mmssl.engine.runners import SelfTrainingRunner
    cfg = Config.fromfile(cfg_path)
    cfg.launcher = 'pytorch'
    from mmssl.engine.distributed import finish_distributed
    SelfTrainingRunner(cfg).train()
    finish_distributed()


def test_two_process_run_trains_the_shrink_output_and_labels_every_image_once(tmp_path):
    faces = make_face_data(tmp_path / 'faces', num_train=7, num_labeled=2)
    cfg = tiny_cfg(faces, tmp_path / 'work', num_rounds=2, eval_each_round=False)
    cfg_path = str(tmp_path / 'cfg.py')
    cfg.dump(cfg_path)
    mp.start_processes(_worker, args=(2, _free_port(), cfg_path), nprocs=2, join=True,
                       start_method='spawn')
    state = json.loads((tmp_path / 'work/self_training_state.json').read_text())
    done = state['completed']
    assert list(done) == ['round0_supervised', 'round0_pseudo_label', 'round1_pseudo_pretrain',
                          'round1_mixed', 'round1_pseudo_label', 'round2_pseudo_pretrain',
                          'round2_mixed', 'round2_eval', 'round2_pseudo_label']
    assert {r['world_size'] for r in done.values()} == {2}
    unlabeled = sorted(a['id'] for a in json.loads(Path(faces['unlabeled']).read_text())[
        'annotations'])
    assert len(unlabeled) == 5
    for name in ('round0_pseudo_label', 'round1_pseudo_label', 'round2_pseudo_label'):
        pseudo = json.loads(Path(done[name]['pseudo_file']).read_text())
        ids = [a['id'] for a in pseudo['annotations']]
        assert sorted(ids) == unlabeled  # each exactly once, none missing
        assert all(len(a['keypoints']) == 68 * 3 for a in pseudo['annotations'])
    assert done['round1_pseudo_pretrain']['num_train_samples'] == 5
    # round 2 (= T): labeled + pseudo-labels (sigma 2.2) through the shrink output, lambda 1
    assert done['round2_mixed']['setup']['head'] == dict(pseudo_loss_weight=1.0,
                                                          shrink_branch=True)
    assert done['round2_mixed']['num_train_samples'] == 2 + 5
    mixed_log = ''.join(p.read_text() for p in (tmp_path / 'work/round2_mixed').glob('*/*.log'))
    losses = [float(v) for v in re.findall(r'loss_kpt_pseudo: ([\d.e+-]+)', mixed_log)]
    assert losses and all(math.isfinite(v) for v in losses)
    weights = torch.load(done['round2_mixed']['weights'], map_location='cpu')['state_dict']
    before = torch.load(done['round2_pseudo_pretrain']['weights'],
                        map_location='cpu')['state_dict']
    key = 'head.shrink_layer.weight'  # trained by the pseudo-labels under DDP
    assert not torch.equal(weights[key], before[key])
    assert 'NME' in done['round2_eval']['metrics']
