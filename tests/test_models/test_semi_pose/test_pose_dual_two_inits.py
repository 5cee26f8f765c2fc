"""PoseDual from two separately trained networks: each network loads its own checkpoint."""
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmssl_testing import REPO_ROOT

CONFIG = 'configs/posedual/coco/posedual-2init_res18_8xb8-30e_coco-1k-256x192.py'


def _supervised_checkpoint(estimator_cfg, seed, path):
    from mmpose.registry import MODELS
    torch.manual_seed(seed)
    net = MODELS.build(estimator_cfg)
    net.init_weights()
    torch.save({'meta': {}, 'state_dict': net.state_dict()}, path)
    return net.state_dict()


def test_each_network_starts_from_its_own_checkpoint(tmp_path):
    import mmssl  # noqa: F401
    from mmpose.registry import MODELS
    init_default_scope('mmpose')
    cfg = Config.fromfile(str(REPO_ROOT / CONFIG))
    assert cfg.model.estimator.init_cfg.checkpoint.startswith(
        'work_dirs/supervised-net1_res18_8xb4-141k_coco-1k-256x192/')
    assert cfg.model.estimator2.init_cfg.checkpoint.startswith(
        'work_dirs/supervised-net2_res18_8xb4-141k_coco-1k-256x192/')
    assert cfg.model.estimator.backbone.init_cfg is None  # no ImageNet download
    plain = dict(cfg.model.estimator, init_cfg=None)
    sd1 = _supervised_checkpoint(plain, 0, tmp_path / 'net1.pth')
    sd2 = _supervised_checkpoint(plain, 1, tmp_path / 'net2.pth')
    cfg.model.estimator.init_cfg.checkpoint = str(tmp_path / 'net1.pth')
    cfg.model.estimator2.init_cfg.checkpoint = str(tmp_path / 'net2.pth')
    torch.manual_seed(7)
    model = MODELS.build(cfg.model)
    model.init_weights()
    got1, got2 = model.net1.state_dict(), model.net2.state_dict()
    assert set(got1) == set(sd1)
    for key in sd1:
        assert torch.equal(got1[key], sd1[key]), key
        assert torch.equal(got2[key], sd2[key]), key
    head = 'head.final_layer.weight'
    assert not torch.equal(got1[head], got2[head])  # the two networks differ
