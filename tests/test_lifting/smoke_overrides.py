"""Make a configs/lifting/ config train in seconds (called by the config smoke harness).

The config's data (``LiftingImageDataset``) and pose model come from the project's synthetic
generators, not from the fixtures:

* the synthetic config (``data_root`` ``data/synthetic_lifting/``): a tiny dataset (4 train /
  4 val images of 64x64 px, a pose model fitted on 600 generated 3D poses);
* the Human3.6M config (``data_root`` ``data/h36m/``): a Human3.6M look-alike in MMPose's
  preprocessed format (``cameras.pkl``, ``h36m_{train,test}.npz``, JPEG frames of subjects
  S1 S5 S6 S7 S8 / S9 S11, :func:`mmssl.datasets.synthetic_h36m.make_synthetic_h36m`) run
  through the shipped converter (``tools/dataset_converters/h36m_to_lifting.py``), which also
  fits the pose model on the training subjects' world poses;

written into ``tmp_dir``, and the config's paths point at it. Inputs shrink to 64x64 (8x8 belief maps) and the CPM to 3 stages of 32 channels
(two fused stages still exercise the fusion); model types, lifting and fusion settings,
pipelines and the MPJPE evaluators stay the config's own.
"""
import os.path as osp

from mmssl.utils import walk_config

INPUT = (64, 64)
HEATMAP = (8, 8)
STAGES = 3


def _data_roots(cfg) -> set:
    roots = set()

    def find(node: dict) -> None:
        if node.get('type') == 'LiftingImageDataset':
            roots.add(osp.basename(osp.normpath(str(node.get('data_root', '')))))
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(key):
            walk_config(cfg[key], find)
    return roots


def _h36m_fixture(tmp_dir) -> tuple:
    """The look-alike in MMPose's format, converted by the shipped tool: (data_root, prior)."""
    import importlib.util
    from mmssl.datasets.synthetic_h36m import make_synthetic_h36m
    root = osp.join(str(tmp_dir), 'h36m')
    make_synthetic_h36m(root, frames_per_subject=3, frame_size=160, seed=0)
    tool = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tools',
                    'dataset_converters', 'h36m_to_lifting.py')
    spec = importlib.util.spec_from_file_location('h36m_to_lifting', tool)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = module.main([root, '--num-charts', '1', '--num-bases', '8'])
    return root + '/', out['prior']


def smoke_overrides(cfg, tmp_dir) -> None:
    if _data_roots(cfg) == {'h36m'}:
        root, prior = _h36m_fixture(tmp_dir)
    else:
        from mmssl.datasets.synthetic_lifting_images import make_synthetic_lifting_data
        paths = make_synthetic_lifting_data(
            osp.join(str(tmp_dir), 'synthetic_lifting'), num_train=4, num_val=4,
            img_size=INPUT[0], num_prior_poses=600, seed=0)
        root, prior = osp.dirname(paths['prior']) + '/', paths['prior']

    def fix(node: dict) -> None:
        if node.get('type') == 'PPCAMixtureLifter':
            node['prior'] = prior
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
