"""Config smoke harness overrides for configs/adversarial_aug (tests/test_configs).

Applied after the harness's generic edits. What cannot run as configured here:

* the full hourglass at 256x256 is too slow for a CPU smoke run: the same mmpose
  HourglassNet is made tiny (32x32 input, 2 downsamplings: bridge skips at 8 and 4 px, 16
  channels below the stem; 8 stacks become 2), the codec and pipelines follow;
* a joint-training batch must hold one image per enabled share: batch 3;
* LSP has no fixture: the COCO fixture is converted to LSP's 14 joints in ``tmp_dir``, in
  the order of the config's metainfo (a real COCO-format file with LSP keypoints, read by
  the config's CocoDataset + metainfo);
* the harness halves the synthetic configs' 64x64 input: ResNet's third stage (2x2) is
  then smaller than the 4x4 occlusion grid, so G reads and AHO masks the first two.
"""
import json
from pathlib import Path

# COCO joint of each LSP joint name (neck: the shoulders' midpoint, head top: the nose)
COCO_OF_LSP = dict(right_ankle=16, right_knee=14, right_hip=12, left_hip=11, left_knee=13,
                   left_ankle=15, right_wrist=10, right_elbow=8, right_shoulder=6,
                   left_shoulder=5, left_elbow=7, left_wrist=9, neck=None, head_top=0)


def _lsp_from_coco(metainfo_file: str) -> list:
    """COCO joint index (None: neck) of every keypoint, in the order of the metainfo."""
    from mmengine.config import Config
    info = Config.fromfile(metainfo_file).dataset_info.keypoint_info
    return [COCO_OF_LSP[info[i]['name']] for i in range(len(info))]


def _coco_to_lsp(src: Path, dst: Path, metainfo_file: str) -> None:
    data = json.loads(src.read_text())
    order = _lsp_from_coco(metainfo_file)
    for ann in data['annotations']:
        k = ann['keypoints']
        pts = [k[3 * i:3 * i + 3] for i in range(17)]
        out = []
        for j in order:
            if j is None:
                a, b = pts[5], pts[6]
                vis = min(a[2], b[2])
                out += [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, vis] if vis else [0, 0, 0]
            else:
                out += pts[j]
        ann['keypoints'] = out
        ann['num_keypoints'] = sum(1 for i in range(14) if out[3 * i + 2] > 0)
    data['categories'][0]['keypoints'] = [str(i) for i in range(14)]
    dst.write_text(json.dumps(data))


def _walk_pipelines(cfg, fn):
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(key)
        if loader:
            fn(loader.dataset)


def smoke_overrides(cfg, tmp_dir) -> None:
    model = cfg.model
    if model.get('type') != 'AdversarialPoseEstimator':
        return
    est = model.estimator
    if est.backbone.type == 'HourglassNet':
        codec = dict(type='MSRAHeatmap', input_size=(32, 32), heatmap_size=(8, 8), sigma=1)
        est.backbone.update(downsample_times=2, stage_channels=(256, 16, 16),
                            stage_blocks=(1, 1, 1), feat_channel=16)
        est.head.update(in_channels=16, decoder=codec)
        if est.backbone.get('num_stacks', 1) > 2:  # the 8-stack configs: 2 stacks, the
            est.backbone.num_stacks = 2  # same multi-stack bridge, masks and supervision
            est.head.num_stages = 2
        model.augmenter = dict(channels=16)

        def retarget(ds):
            for t in ds.pipeline:
                if t['type'] == 'TopdownAffine':
                    t['input_size'] = codec['input_size']
                if t['type'] == 'GenerateTarget':
                    t['encoder'] = codec
        _walk_pipelines(cfg, retarget)
    if model.get('stage', 'joint') == 'joint':
        cfg.train_dataloader.batch_size = 3

    def lsp(ds):
        meta = ds.get('metainfo') or {}
        if str(meta.get('from_file', '')).endswith('lsp.py'):
            dst = Path(tmp_dir) / 'lsp_from_coco_fixture.json'
            if not dst.exists():
                _coco_to_lsp(Path(ds.data_root) / ds.ann_file, dst, str(meta['from_file']))
            ds.ann_file = str(dst)
    _walk_pipelines(cfg, lsp)
    if est.backbone.type == 'ResNet':  # halved input: the 3rd stage is below the grid
        model.bridge = dict(modules=['backbone.layer1', 'backbone.layer2'])
