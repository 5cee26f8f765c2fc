"""Make a configs/stld/ config run its WHOLE self-training curriculum in seconds.

Called by the config smoke harness (tests/test_configs) after its generic edits (fixture
data paths, no pretrained weights, small loaders). Here: labeled/unlabeled split files of the
fixture in ``tmp_dir``; T = 2 rounds for the STLD ResNet-18 configs on 300W/AFLW data (so
the shrink branch of round 2 runs; also ``mode='shrink_only'``, which starts at round 2) and
T = 1 for the others (WFLW's large fixture images, HRNet, baselines, pseudo pretraining only:
the same runner paths, cheaper; a per-round lambda list keeps its last values);
one epoch per stage (the config's schedulers, validation interval and checkpoint hook
stay) without oversampling; the shortened curriculum (its first, coarse value) ends before
standard regression, so ``strict_curriculum=False`` says so explicitly; 64x64 inputs and a
narrow, shallow backbone/head of the config's own types. Everything else (runner, head types, losses,
codecs, evaluator) stays the config's.

Structurally identical configs: within each group below only the split-file names (labeled
ratio) differ, so one representative per group exercises all code paths
(:data:`SMOKE_SUBSET`):

- ``stld-hm_res18_*_{300w,wflw,aflw}-*pct`` and ``synthetic/stld-hm_*`` (the datasets differ
  in keypoint count and NME normalisation: 300W and WFLW are in the subset)
- ``stld-tf_res18_*_{300w,wflw,aflw}-*pct`` (AFLW in the subset: box-size normalisation)
- ``stld-hm_hrnetv2-w18_*_{300w,wflw,aflw}-*pct`` and
  ``stld-tf_hrnetv2-w18_*_{300w,wflw,aflw}-*pct`` (the R18 recipes with the HRNet fragment:
  300W for HM, AFLW for TF in the subset)
- the baselines ``stld-naive_*`` (also ``synthetic/stld-naive_*``), ``stld-warmup_*`` and
  ``stld-selection_*``, the ablations ``stld-pp-only_*`` and ``stld-sr-only_*`` (one config
  each: all in the subset)
- ``hand/stld-{hm,tf}_res18_*`` (semi-supervised splits and omni: their bases name the
  unlabeled images' folder, so all share one structure) and ``hand/stld-{hm,tf}_res50_*``
  (omni): hand X-ray data made here (synthetic radiographs through Payer et al.'s CSV format
  and the converter, 3 labeled-file images), 37 keypoints, MRE evaluator
- ``omni/stld-{hm,tf}_res18_*_300w-omni-celeba-*`` (the CelebA subset sizes differ only in the
  file name)

Configs whose unlabeled images sit in a folder of their own (``self_training.
unlabeled_dataset``: the hand and omni configs) get their unlabeled set from such a folder
here, through the folder tool's function (``image_folder_to_coco``): whole-image boxes of
synthetic radiographs for the hands, and for faces the 300W fixture's images with a
detector results file made from its boxes plus low-scoring boxes that the score threshold
drops. They run T = 1 (the round-2 shrink path is the 300W/AFLW ResNet-18 runs').
"""
import copy
import json
import os
from pathlib import Path

from mmssl.datasets.hand_xray_csv import hand_csv_to_coco
from mmssl.datasets.image_folder import image_folder_to_coco
from mmssl.datasets.synthetic_hand_xray import (write_synthetic_hand_xray,
                                                write_unlabeled_radiographs)
from mmssl.utils import walk_config

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(os.environ.get('MMSSL_FIXTURES', REPO_ROOT.parent / 'shared' / 'fixtures'))

#: one config per structurally distinct group (see the module docstring)
SMOKE_SUBSET = [
    'stld/stld-hm_res18_1xb16-60e_300w-5pct-256x256.py',
    'stld/stld-hm_res18_1xb16-60e_wflw-5pct-256x256.py',
    'stld/stld-tf_res18_1xb16-360e_aflw-5pct-256x256.py',
    'stld/stld-hm_hrnetv2-w18_1xb16-60e_300w-5pct-256x256.py',
    'stld/stld-tf_hrnetv2-w18_1xb16-360e_aflw-5pct-256x256.py',
    'stld/stld-naive_hm_res18_1xb16-60e_300w-5pct-256x256.py',
    'stld/stld-naive_tf_res18_1xb16-360e_300w-5pct-256x256.py',
    'stld/stld-warmup_hm_res18_1xb16-60e_300w-5pct-256x256.py',
    'stld/stld-warmup_tf_res18_1xb16-360e_300w-5pct-256x256.py',
    'stld/stld-pp-only_hm_res18_1xb16-60e_300w-5pct-256x256.py',
    'stld/stld-pp-only_tf_res18_1xb16-360e_300w-5pct-256x256.py',
    'stld/stld-sr-only_hm_res18_1xb16-60e_300w-5pct-256x256.py',
    'stld/stld-sr-only_tf_res18_1xb16-360e_300w-5pct-256x256.py',
    'stld/stld-selection_hm_res18_1xb16-60e_300w-5pct-256x256.py',
]

INPUT = (64, 64)
HEATMAP = (16, 16)
#: 19 of the 68 300W points standing in for AFLW's 19 landmarks (smoke data only)
AFLW_FROM_300W = [17, 19, 21, 22, 24, 26, 36, 39, 42, 45, 31, 33, 35, 48, 51, 54, 57, 8, 30]


def _shrink_sizes(node: dict) -> None:
    t = str(node.get('type', '')).split('.')[-1]
    if t == 'TopdownAffine':
        node['input_size'] = INPUT
    elif t == 'MSRAHeatmap':
        node.update(input_size=INPUT, heatmap_size=HEATMAP)
    elif t == 'RegressionLabel':
        node['input_size'] = INPUT


def _write(obj: dict, path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))
    return str(path)


def _split(source: dict, out: Path) -> tuple:
    """Labeled = first image; unlabeled = the other images (keypoints zeroed)."""
    first = source['images'][0]['id']
    lab, unl = copy.deepcopy(source), copy.deepcopy(source)
    lab['images'] = [im for im in source['images'] if im['id'] == first]
    lab['annotations'] = [a for a in source['annotations'] if a['image_id'] == first]
    unl['images'] = [im for im in source['images'] if im['id'] != first]
    unl['annotations'] = [dict(a, keypoints=[0] * len(a['keypoints']), num_keypoints=0)
                          for a in source['annotations'] if a['image_id'] != first]
    return _write(lab, out / 'labeled.json'), _write(unl, out / 'unlabeled.json')


def _aflw_from_300w(out: Path) -> str:
    coco = json.loads((FIXTURES / '300w' / 'test_300w.json').read_text())
    for ann in coco['annotations']:
        kpts = [ann['keypoints'][3 * i:3 * i + 3] for i in AFLW_FROM_300W]
        ann['keypoints'] = [v for k in kpts for v in k]
        ann['num_keypoints'] = len(AFLW_FROM_300W)
        ann['box_size'] = float(ann['scale'] * 200)
    return _write(coco, out / 'aflw_test.json')


def _hand_from_csv(out: Path) -> str:
    """Three synthetic radiographs through Payer et al.'s CSV format and the converter."""
    csv = write_synthetic_hand_xray(str(out / 'hand'), 3, seed=0)
    return _write(hand_csv_to_coco(csv, str(out / 'hand' / 'images')), out / 'hand_xray.json')


def _unlabeled_folder(train_ds: dict, source: dict, out: Path) -> tuple:
    """An image folder of its own and its unlabeled file made by the folder tool's function:
    whole-image boxes of synthetic radiographs (hands), or the 300W fixture's images with
    boxes from a detector results file (their boxes at score 0.95, half-size boxes at 0.2
    that ``score_thr=0.5`` drops)."""
    num_keypoints = len(source['annotations'][0]['keypoints']) // 3
    if train_ds.type == 'HandXrayDataset':
        folder = out / 'unlabeled_radiographs'
        write_unlabeled_radiographs(str(folder), 2)
        coco = image_folder_to_coco(str(folder), num_keypoints, category='hand')
    else:
        folder = FIXTURES / '300w'
        fixture = json.loads((folder / 'test_300w.json').read_text())
        names = {im['id']: im['file_name'] for im in fixture['images']}
        dets = []
        for ann in fixture['annotations']:
            side = ann['scale'] * 200
            x, y = ann['center'][0] - side / 2, ann['center'][1] - side / 2
            dets += [dict(file_name=names[ann['image_id']], bbox=[x, y, side, side], score=0.95),
                     dict(image=names[ann['image_id']], bbox=[x, y, side / 2, side / 2],
                          score=0.2)]
        coco = image_folder_to_coco(str(folder), num_keypoints, score_thr=0.5,
                                    det_file=_write(dets, out / 'face_detections.json'),
                                    category='face')
    return str(folder) + '/', _write(coco, out / 'unlabeled_folder.json')


def _tiny_model(model: dict) -> None:
    backbone, head = model['backbone'], model['head']
    if backbone['type'] == 'ResNet':
        backbone.update(base_channels=8, stem_channels=8)
        in_channels = 64 if backbone.get('depth', 18) < 50 else 256  # bottleneck: x4
    else:  # HRNet: W18 -> W4, one module of one block per branch (same 4-branch structure)
        extra = backbone['extra']
        extra['stage1'].update(num_channels=(16, ), num_blocks=(1, ))
        for i, stage in enumerate(('stage2', 'stage3', 'stage4')):
            extra[stage].update(num_channels=(4, 8, 16, 32)[:i + 2], num_blocks=(1, ) * (i + 2),
                                num_modules=1)
        select = (model.get('neck') or {}).get('select_index')
        in_channels = 32 if select is not None else 60
    head['in_channels'] = in_channels
    if head.get('conv_out_channels'):
        head['conv_out_channels'] = (in_channels, )
    if head.get('deconv_out_channels'):
        head['deconv_out_channels'] = (16, ) * len(head['deconv_out_channels'])
    if 'embed_dims' in head:
        head.update(embed_dims=16, num_layers=1, num_heads=2, ffn_channels=32,
                    mlp_channels=32)


def smoke_overrides(cfg, tmp_dir) -> None:
    """Edit ``cfg`` in place so the whole curriculum (T=2) runs tiny on fixture data."""
    tmp_dir = Path(tmp_dir)
    data_dir = tmp_dir / 'stld_smoke_data'
    train_ds = cfg.train_dataloader.dataset
    if train_ds.type == 'AFLWDataset':
        source_path = _aflw_from_300w(data_dir)
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            if cfg.get(key):
                cfg[key].dataset.update(data_root=str(FIXTURES / '300w') + '/',
                                        ann_file=source_path, data_prefix=dict(img=''))
    elif train_ds.type == 'HandXrayDataset':
        source_path = _hand_from_csv(data_dir)
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            if cfg.get(key):
                cfg[key].dataset.update(data_root=str(data_dir / 'hand' / 'images') + '/',
                                        ann_file=source_path, data_prefix=dict(img=''))
    else:
        source_path = os.path.join(train_ds.data_root, train_ds.ann_file)
    source = json.loads(Path(source_path).read_text())
    labeled, unlabeled = _split(source, data_dir)
    train_ds.ann_file = labeled
    st = cfg.self_training
    folder_unlabeled = bool(st.get('unlabeled_dataset'))
    if folder_unlabeled:  # the unlabeled images sit in a folder of their own (omni)
        folder, unlabeled = _unlabeled_folder(train_ds, source, data_dir)
        st.unlabeled_dataset.update(data_root=folder, data_prefix=dict(img=''))
    curriculum = st.get('curriculum')
    rounds = 2 if (curriculum and cfg.model.backbone.type == 'ResNet' and not folder_unlabeled
                   and train_ds.type != 'WFLWDataset') or st.get('mode') == 'shrink_only' else 1
    weights = st.get('pseudo_loss_weights')
    if weights:  # baselines: one lambda per round 1..T; STLD: rounds 2..T
        keep = rounds if st.get('mode') in ('naive', 'selection') else rounds - 1
        st.pseudo_loss_weights = list(weights)[len(weights) - keep:]
    st.update(unlabeled_ann_file=unlabeled, num_rounds=rounds, labeled_min_size=0,
              curriculum=[curriculum[0]] * (rounds - 1) if curriculum else None,
              # the shortened curriculum keeps its coarse first value (the shrink branch
              # runs) and so ends before standard regression: asked for explicitly
              strict_curriculum=False,
              eval_each_round=False,
              relabel_last_round=False, pseudo_gt_ann_file=None,
              unlabeled_dataloader=dict(batch_size=2, num_workers=0))
    for key in list(cfg.keys()):
        walk_config(cfg[key], _shrink_sizes)
    _tiny_model(cfg.model)
    cfg.train_cfg.max_epochs = 1  # the loop's validation interval and schedulers stay
