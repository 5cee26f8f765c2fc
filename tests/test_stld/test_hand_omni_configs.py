"""The hand X-ray and omni-supervised STLD configs as shipped: what the paper's settings
require of them (no flip for hands, the MRE evaluator with Payer et al.'s wrist width, the
512 px input, the unlabeled images' folders), and that the ResNet-50 Table IV models build
at full width (the smoke runs use a narrow one)."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from stld_helpers import single_thread  # noqa: F401

REPO_ROOT = Path(__file__).resolve().parents[2]
HAND = sorted(str(p) for p in (REPO_ROOT / 'configs/stld/hand').glob('*.py'))
OMNI = sorted(str(p) for p in (REPO_ROOT / 'configs/stld/omni').glob('*.py'))


def _types(pipeline):
    return [str(t['type']).split('.')[-1] for t in pipeline]


def test_every_paper_setting_has_a_config():
    names = {Path(p).name for p in HAND + OMNI}
    for model in ('stld-hm_res18_1xb16-60e', 'stld-tf_res18_1xb16-360e'):
        for split in ('5pct', '10pct', '20pct', 'omni-rsna'):
            assert f'{model}_hand-{split}-512x512.py' in names
        for size in ('20k', '70k', 'all'):
            assert f'{model}_300w-omni-celeba-{size}-256x256.py' in names
    assert {'stld-hm_res50_1xb16-60e_hand-omni-rsna-512x512.py',
            'stld-tf_res50_1xb16-360e_hand-omni-rsna-512x512.py'} <= names


@pytest.mark.parametrize('path', HAND, ids=lambda p: Path(p).name)
def test_hand_configs_never_flip_and_report_mm(path):
    cfg = Config.fromfile(path)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds = cfg[key].dataset
        assert ds.type == 'HandXrayDataset'
        assert 'RandomFlip' not in _types(ds.pipeline), f'{key} flips a hand'
        affine = [t for t in ds.pipeline if t['type'] == 'TopdownAffine'][0]
        assert tuple(affine['input_size']) == (512, 512)
        crop = [t for t in ds.pipeline if t['type'] == 'GetBBoxCenterScale'][0]
        assert crop['padding'] == 1.0  # the whole image (the annotation box)
    assert cfg.model.test_cfg.flip_test is False
    assert not cfg.self_training.get('pseudo_flip_test', False)
    for ev in (cfg.val_evaluator, cfg.test_evaluator):
        assert ev.type == 'LandmarkMRE' and tuple(ev.reference_keypoints) == (1, 5)
        assert ev.reference_mm == 50.0 and tuple(ev.sdr_thresholds) == (2., 4., 10.)
    assert cfg.default_hooks.checkpoint.save_best == 'MRE'
    assert cfg.default_hooks.checkpoint.rule == 'less'
    head = cfg.model.head
    assert head.get('out_channels', head.get('num_keypoints')) == 37
    unl = cfg.self_training.unlabeled_dataset
    if 'omni' in path:
        assert cfg.train_dataloader.dataset.ann_file == 'annotations/hand_xray_train.json'
        assert unl.data_root == 'data/rsna_boneage/'
    else:
        assert unl.data_root == cfg.train_dataloader.dataset.data_root  # the atlas images
        n = cfg.num_labeled
        assert cfg.train_dataloader.dataset.ann_file.endswith(f'.labeled@{n}.json')
        assert cfg.self_training.unlabeled_ann_file.endswith(f'.unlabeled@{n}.json')


@pytest.mark.parametrize('path', OMNI, ids=lambda p: Path(p).name)
def test_omni_300w_configs_label_all_of_300w(path):
    cfg = Config.fromfile(path)
    assert cfg.train_dataloader.dataset.ann_file == \
        'annotations/face_landmarks_300w_train.json'
    size = {'20k': '20000', '70k': '70000', 'all': 'all'}[Path(path).stem.split('-')[-2]]
    assert cfg.self_training.unlabeled_ann_file == \
        f'annotations/celeba_faces.unlabeled@{size}.json'
    assert cfg.self_training.unlabeled_dataset.data_root == 'data/celeba/'
    assert cfg.val_evaluator.type == 'FaceLandmarkMetric'


@pytest.mark.parametrize('name', ['stld-hm_res50_1xb16-60e_hand-omni-rsna-512x512.py',
                                  'stld-tf_res50_1xb16-360e_hand-omni-rsna-512x512.py'])
def test_resnet50_models_build_at_full_width(name):
    import mmssl  # noqa: F401  (registers the STLD heads)
    from mmpose.registry import MODELS
    cfg = Config.fromfile(str(REPO_ROOT / 'configs/stld/hand' / name))
    cfg.model.backbone.init_cfg = None
    assert cfg.model.backbone.depth == 50
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        feats = model.extract_feat(torch.zeros(1, 3, 64, 64))
        assert feats[-1].shape[1] == 2048
        out = model.head.forward(feats)
    out = out[0] if isinstance(out, tuple) else out
    assert out.shape[1] == 37
