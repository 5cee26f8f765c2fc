"""On a CPU-only machine a config's ``sync_bn`` (the PoseDual COCO configs set 'torch') is
dropped with a warning by the gloo set-up, since torch's SyncBatchNorm needs CUDA."""
import socket

import pytest
import torch
from mmengine.config import Config

from mmssl.engine.distributed import finish_distributed, prepare_cpu_distributed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.mark.skipif(torch.cuda.is_available(), reason='the CPU-only path')
def test_sync_bn_is_ignored_with_a_warning_on_cpu(monkeypatch):
    for key, value in dict(RANK='0', WORLD_SIZE='1', LOCAL_RANK='0', MASTER_ADDR='127.0.0.1',
                           MASTER_PORT=str(_free_port())).items():
        monkeypatch.setenv(key, value)
    cfg = Config(dict(sync_bn='torch', model_wrapper_cfg=dict(
        type='MMSeparateDistributedDataParallel')))
    try:
        with pytest.warns(UserWarning, match="sync_bn='torch' is ignored on a CPU-only"):
            assert prepare_cpu_distributed(cfg, 'pytorch')
        assert cfg.sync_bn is None
        assert cfg.model_wrapper_cfg['type'] == 'MMSeparateDistributedDataParallel'
        assert cfg.model_wrapper_cfg['device_ids'] is None
    finally:
        finish_distributed()
