"""Make a configs/lifting/ config train in seconds (called by the config smoke harness).

The config's data (``LiftingImageDataset``) and pose model come from the project's synthetic
generator, not from the fixtures: a tiny dataset (4 train / 4 val images of 64x64 px, a pose
model fitted on 600 generated 3D poses) is written into ``tmp_dir`` and the config's paths
point at it. Inputs shrink to 64x64 (8x8 belief maps) and the CPM to 3 stages of 32 channels
(two fused stages still exercise the fusion); model types, lifting and fusion settings,
pipelines and the MPJPE evaluators stay the config's own.
"""
import os.path as osp

from mmssl.utils import walk_config

INPUT = (64, 64)
HEATMAP = (8, 8)
STAGES = 3


def smoke_overrides(cfg, tmp_dir) -> None:
    from mmssl.datasets.synthetic_lifting_images import make_synthetic_lifting_data
    paths = make_synthetic_lifting_data(
        osp.join(str(tmp_dir), 'synthetic_lifting'), num_train=4, num_val=4,
        img_size=INPUT[0], num_prior_poses=600, seed=0)
    root = osp.dirname(paths['prior']) + '/'

    def fix(node: dict) -> None:
        if node.get('type') == 'PPCAMixtureLifter':
            node['prior'] = paths['prior']
        if node.get('type') == 'LiftingImageDataset':
            node['data_root'] = root
        if node.get('type') == 'MSRAHeatmap':
            node['input_size'], node['heatmap_size'] = INPUT, HEATMAP
        if node.get('type') == 'TopdownAffine':
            node['input_size'] = INPUT
        if node.get('type') == 'LiftingCPM':
            node['num_stages'], node['feat_channels'] = STAGES, 32
            if (node.get('fusion') or {}).get('init_weights') is not None:
                node['fusion']['init_weights'] = node['fusion']['init_weights'][:STAGES - 1]
        if node.get('type') == 'CPMHead':
            node['num_stages'] = STAGES

    for key in ('model', 'train_dataloader', 'val_dataloader', 'test_dataloader', 'codec'):
        if cfg.get(key):
            walk_config(cfg[key], fix)
