"""Shared helpers of the STLD tests: tiny synthetic face data and tiny STLD configs.

The configs are the real ``configs/stld`` files (loaded through their ``mmpose::`` base),
pointed at synthetic 300W-format faces (64 px) and shrunk with the smoke overrides.
"""
import copy
import json
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from mmssl.datasets.splits import split_nested_landmarks, write_coco
from mmssl.datasets.synthetic import generate_face_landmarks

REPO_ROOT = Path(__file__).resolve().parents[2]
HM_CONFIG = REPO_ROOT / 'configs/stld/stld-hm_res18_1xb16-60e_300w-5pct-256x256.py'
TF_CONFIG = REPO_ROOT / 'configs/stld/stld-tf_res18_1xb16-360e_300w-5pct-256x256.py'


@pytest.fixture(autouse=True, scope='module')
def single_thread():
    """One intra-op thread: on this shared 2-core machine more threads spin-wait and run a
    tiny model 10-30x slower. Imported by each STLD test module (autouse)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make_face_data(root: Path, num_train: int = 7, num_labeled: int = 2,
                   num_test: int = 2) -> dict:
    """Synthetic 64 px faces; nested split with the foundation's split function."""
    root = Path(root)
    train = generate_face_landmarks(str(root), num_train, seed=0, image_size=64,
                                    split='train')
    test = generate_face_landmarks(str(root), num_test, seed=1, image_size=64, split='test')
    coco = json.loads(Path(train).read_text())
    lab, unl = split_nested_landmarks(coco, [num_labeled], seed=1234)[num_labeled]
    return dict(root=str(root), train=train, test=test,
                labeled=write_coco(lab, str(root / 'labeled.json')),
                unlabeled=write_coco(unl, str(root / 'unlabeled.json')))


def tiny_cfg(data: dict, work_dir: Path, head: str = 'hm', num_rounds: int = 2,
             max_epochs: int = 1, **self_training) -> Config:
    """A configs/stld config on ``data`` with a tiny model and schedule."""
    import importlib.util  # by path: tests/test_ci_ssod has a module of the same name
    spec = importlib.util.spec_from_file_location(
        'stld_smoke_overrides', Path(__file__).with_name('smoke_overrides.py'))
    overrides = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(overrides)
    from mmssl.utils import walk_config as _walk
    _shrink_sizes, _tiny_model = overrides._shrink_sizes, overrides._tiny_model
    cfg = Config.fromfile(str(HM_CONFIG if head == 'hm' else TF_CONFIG))
    cfg.work_dir = str(work_dir)
    _walk(cfg.model, _no_pretrained)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg[key]
        loader.update(batch_size=2, num_workers=0, persistent_workers=False)
        split = 'train' if key == 'train_dataloader' else 'test'
        loader.dataset.update(data_root=data['root'], data_prefix=dict(img=f'images/{split}/'),
                              ann_file=data['labeled'] if split == 'train' else data['test'])
    for key in list(cfg.keys()):
        _walk(cfg[key], _shrink_sizes)
    _tiny_model(cfg.model)
    cfg.train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
    cfg.param_scheduler = [dict(type='MultiStepLR', milestones=[max_epochs], by_epoch=True)]
    cfg.optim_wrapper.optimizer.lr = 1e-3
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1, max_keep_ckpts=1)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.randomness = dict(seed=0)
    full = copy.deepcopy(cfg.self_training.curriculum)
    curriculum = full[:num_rounds - 1]
    # a shortened curriculum stops before standard regression: asked for explicitly here
    cfg.self_training.update(
        unlabeled_ann_file=data['unlabeled'], num_rounds=num_rounds, labeled_min_size=0,
        curriculum=curriculum, strict_curriculum=len(curriculum) == len(full),
        unlabeled_dataloader=dict(batch_size=2, num_workers=0))
    cfg.self_training.update(self_training)
    return cfg


def _no_pretrained(node: dict) -> None:
    init = node.get('init_cfg')
    if isinstance(init, dict) and init.get('type') == 'Pretrained':
        node['init_cfg'] = None
