"""The documented ``--cfg-options`` of the seed-000 sweeps (Fig. 9 lambda, Fig. 11 Joint
Cutout count, Fig. 12 RandAugment magnitude) exist in the shipped configs and reach the
built model / transform (so a sweep is not silently a run of the default)."""
import copy

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpose.registry import MODELS, TRANSFORMS

import mmssl  # noqa: F401  (registration)
from mmssl_testing import REPO_ROOT

COCO = REPO_ROOT / 'configs' / 'posedual' / 'coco'
# (config, option, value, where the value must arrive)
SWEEPS = [
    ('posecons-same_res18_8xb8-30e_coco-1k-256x192.py', 'model.unsup_weight', 0.25, 'lambda'),
    ('posedual-jc_res18_8xb8-70e_coco-1k-256x192.py', 'model.joint_cutout.num_joints', 3,
     'joint_cutout'),
    ('posedual-ra_res18_8xb8-70e_coco-1k-256x192.py',
     'train_dataloader.dataset.datasets.1.pipeline.5.unsup_student.0.magnitude', 10,
     'randaugment'),
]


def _cfg(name, option, value):
    cfg = Config.fromfile(str(COCO / name))
    cfg.merge_from_dict({option: value})  # what tools/train.py --cfg-options does
    return cfg


def _light(model_cfg):
    """No pretrained download and a tiny backbone: the options are what is tested."""
    model_cfg = copy.deepcopy(model_cfg)
    model_cfg.estimator.backbone.init_cfg = None
    return model_cfg


@pytest.mark.parametrize('name,option,value,kind', SWEEPS)
def test_sweep_option_reaches_the_module(name, option, value, kind):
    init_default_scope('mmpose')
    cfg = _cfg(name, option, value)
    if kind == 'randaugment':
        branch = cfg.train_dataloader.dataset.datasets[1].pipeline[5]
        assert branch.type == 'PoseMultiBranch', 'the option path no longer names the branch'
        transform = TRANSFORMS.build(branch)
        ra = transform.branch_pipelines['unsup_student'].transforms[0]
        assert type(ra).__name__ == 'PhotometricRandAugment'
        assert ra.magnitude == value
        return
    model = MODELS.build(_light(cfg.model))
    if kind == 'lambda':
        assert model.unsup_weight == value and model.teacher_view == 'same'
    else:
        assert model.joint_cutout_cfg['num_joints'] == value


def test_default_values_are_the_papers():
    init_default_scope('mmpose')
    cfg = Config.fromfile(str(COCO / SWEEPS[0][0]))
    assert cfg.model.unsup_weight == 1.0
    cfg = Config.fromfile(str(COCO / SWEEPS[1][0]))
    assert cfg.model.joint_cutout.num_joints == 5
    cfg = Config.fromfile(str(COCO / SWEEPS[2][0]))
    assert cfg.train_dataloader.dataset.datasets[1].pipeline[5].unsup_student[0].magnitude == 20
