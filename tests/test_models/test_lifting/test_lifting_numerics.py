"""Numerics of the lifting CPM that must hold on an accelerator: constrained fusion weights,
no host synchronisation (``Tensor.item``) in the forward, logging after the step."""

import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS, MODELS
from torch.overrides import TorchFunctionMode

from lifting_helpers import lifter, prior, single_thread  # noqa: F401  (fixtures)
from lifting_helpers import smoke_lifting_config
from mmssl.models.lifting import LiftingCPM

SYNCS = ('item', 'tolist')  # Tensor methods that copy a value to the host and wait for it


class RecordHostSyncs(TorchFunctionMode):
    """Records every ``Tensor.item`` / ``Tensor.tolist`` call made under the mode."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, '__name__', '')
        if name in SYNCS:
            self.calls.append(name)
        return func(*args, **(kwargs or {}))


def test_fusion_weights_stay_positive_and_normalised_under_adversarial_gradients(lifter):
    torch.manual_seed(0)
    model = LiftingCPM(3, 17, lifter=lifter, feat_channels=8, num_stages=3,
                       fusion=dict(vis_thr=-1.))
    model.train()
    opt = torch.optim.SGD([model.fusion.weight_logits], lr=1.)
    x = torch.randn(2, 3, 64, 64)
    for step in range(4):  # huge, alternating gradients on the fused maps
        opt.zero_grad()
        outs = model(x)
        sign = 1. if step % 2 else -1.
        (sign * 1e3 * sum(o.sum() for o in outs[:-1])).backward()
        opt.step()
        w = model.fusion_weights
        # a convex combination after every step (linear weights went negative here, and
        # their sum through zero); float32 softmax can underflow a weight to exactly 0
        assert torch.isfinite(w).all() and (w >= 0).all(), w
        torch.testing.assert_close(w.sum(1), torch.ones(2))
        assert torch.isfinite(model.fusion.weight_logits.grad).all()
    with torch.no_grad():  # extreme logits: still a convex combination, never NaN
        model.fusion.weight_logits.copy_(torch.tensor([[1e4, -1e4], [-1e30, 1e30]]))
        w = model.fusion_weights
        assert torch.isfinite(w).all() and (w >= 0).all()
        torch.testing.assert_close(w.sum(1), torch.ones(2))
        assert all(torch.isfinite(o).all() for o in model(x))


def test_the_sync_recorder_sees_item():
    with RecordHostSyncs() as mode:
        torch.ones(1).item()
    assert mode.calls == ['item']


@pytest.fixture(scope='module')
def smoke_cfg(tmp_path_factory):
    init_default_scope('mmpose')
    cfg = smoke_lifting_config(tmp_path_factory.mktemp('numerics'))
    return cfg


def test_training_forward_has_no_item_and_stats_are_logged_after_the_step(smoke_cfg):
    model = MODELS.build(smoke_cfg.model)
    model.train()
    dataset = DATASETS.build(smoke_cfg.train_dataloader.dataset)
    data = model.data_preprocessor(pseudo_collate([dataset[i] for i in range(2)]), True)
    with RecordHostSyncs() as mode:
        losses = model(**data, mode='loss')
    assert mode.calls == [], f'host syncs in the forward: {mode.calls}'
    assert set(model.fusion.last_stats) == {f'lift_{k}_s{s}' for k in ('w_proj', 'w_belief',
                                                                      'valid') for s in (1, 2)}
    assert all(isinstance(v, torch.Tensor) and not v.requires_grad
               for v in model.fusion.last_stats.values())
    # a real training step: the statistics join the logged variables, as tensors
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-3))
    before = model.backbone.fusion_weights.detach().clone()
    log_vars = model.train_step(pseudo_collate([dataset[i] for i in range(2)]), optim)
    for stage in (1, 2):
        torch.testing.assert_close(log_vars[f'lift_w_proj_s{stage}'], before[stage - 1, 0])
        assert 0 <= float(log_vars[f'lift_valid_s{stage}']) <= 1
    assert 'loss' in log_vars and set(losses) <= set(log_vars)
    assert not torch.equal(model.backbone.fusion_weights, before)  # the weights learn
    assert model.fusion.last_stats == {}  # popped once


def test_lifting_path_follows_the_module_device_and_dtype(lifter):
    """The fusion and lifting create every tensor on the input's device (CPU here; the same
    code runs on CUDA, ``benchmarks/bench_lifting.py --device cuda``) and in its dtype."""
    torch.manual_seed(0)
    model = LiftingCPM(3, 17, lifter=lifter, feat_channels=8, num_stages=2,
                       fusion=dict(vis_thr=-1.)).double()
    model.train()
    x = torch.randn(1, 3, 64, 64, dtype=torch.float64)
    outs = model(x)
    assert all(o.dtype == torch.float64 and o.device == x.device for o in outs)
    sum(o.sum() for o in outs).backward()
    res = model.stage_liftings()[0]
    assert res.poses_3d.device == x.device and res.valid.all()
