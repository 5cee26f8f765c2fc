"""Runner-level: the CI-SSOD config trains, logs its statistics and resumes to the same state.

Also the config smoke check asked of every method: ``Runner.from_cfg`` on the split1 config
with the overrides of ``smoke_overrides.py`` trains 2 iterations on CPU.
"""
import glob
import json
import os.path as osp

import importlib.util

import torch
from mmengine.runner import Runner

from smoke_overrides import runner_without_cfg_dump
from mmssl.engine.hooks.ci_ssod_crs_hook import CrSRefreshHook

CONFIG = 'ci-ssod_soft-teacher_faster-rcnn_r50-caffe_fpn_180k_coco-split1.py'
_spec = importlib.util.spec_from_file_location(
    'plot_ci_ssod', osp.join(osp.dirname(__file__), '..', '..', 'tools', 'analysis',
                             'plot_ci_ssod.py'))
plot_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(plot_tool)


def _no_val(cfg):
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.test_cfg = cfg.test_dataloader = cfg.test_evaluator = None
    return cfg


def _ci_state(runner):
    model = runner.model
    gbr = model.gbr_loss
    return dict(
        gbr={k: v.clone() for k, v in gbr.state_dict().items()},
        gbt={k: v.clone() for k, v in model.gbt.state_dict().items()},
        crs={k: v for k, v in next(h for h in runner.hooks
                                   if isinstance(h, CrSRefreshHook)).store.items()})


def test_train_log_and_resume(tiny_cfg):
    cfg = _no_val(tiny_cfg(CONFIG))
    cfg.default_hooks.checkpoint.interval = 2
    runner = Runner.from_cfg(cfg)
    runner.train()
    state = _ci_state(runner)
    gbr = runner.model.gbr_loss
    assert gbr.num_updates == 2 and gbr.is_active
    assert int(runner.model.gbt.num_updates) == 2
    assert not torch.equal(gbr.class_weights, torch.ones_like(gbr.class_weights))
    sampler = runner.train_dataloader.sampler
    assert type(sampler).__name__ == 'ClassRebalancingSampler'
    # logs: group scalars in the text log / MessageHub, per-class vectors in scalars.json
    scalars = glob.glob(osp.join(cfg.work_dir, '*', 'vis_data', 'scalars.json'))[0]
    with open(scalars) as f:
        lines = [json.loads(line) for line in f]
    keys = set().union(*lines)
    for key in ('gbr/w_maj', 'gbr/w_min', 'gbt/thr_min', 'gbr/pos_min', 'gbr/neg_maj',
                'pseudo/num_min', 'crs/lambda', 'ci_ssod/w/ring', 'ci_ssod/thr/ring',
                'ci_ssod/pseudo/circle', 'ci_ssod/pos/background', 'ci_ssod/neg_w/ring',
                'gbr/res_min', 'gbr/pos_unsup_min', 'gbr/neg_sup_maj', 'ci_ssod/pos_app/ring',
                'ci_ssod/neg_app_unsup/ring', 'ci_ssod/res_app_sup/background'):
        assert key in keys, key

    # the plot tool reads these logs and writes a PNG
    runs = [('run', *plot_tool.load_run(plot_tool.find_scalars(cfg.work_dir)))]
    png = plot_tool.plot(runs, ['diamond', 'cross', 'ring'], None,
                         osp.join(cfg.work_dir, 'curves.png'))
    assert osp.getsize(png) > 10000
    assert runs[0][1]['w']['ring'][-1][0] == 2  # (step, value) pairs per class
    # Fig. 3 / 5 panels draw the applied gradients, not the solver's fixed point
    assert plot_tool.gradient_stats('run', runs[0][1], ()) == ('pos_app', 'neg_app', '')

    ckpt = osp.join(cfg.work_dir, 'iter_2.pth')
    assert osp.isfile(ckpt)
    cfg2 = _no_val(tiny_cfg(CONFIG))
    cfg2.work_dir = cfg.work_dir
    cfg2.train_cfg.max_iters = 3
    cfg2.default_hooks.checkpoint.interval = 2
    cfg2.resume, cfg2.load_from = True, ckpt
    resumed = runner_without_cfg_dump(cfg2)
    resumed.load_or_resume()
    state2 = _ci_state(resumed)
    for part in ('gbr', 'gbt'):
        for key, value in state[part].items():
            assert torch.equal(value, state2[part][key]), (part, key)
    assert state2['crs'].keys() == state['crs'].keys()
    resumed.train()  # continues from iteration 2 for one more iteration
    assert resumed.iter == 3 and resumed.model.gbr_loss.num_updates == 3
    # the sampler was refreshed from the restored pseudo-label store before training
    assert resumed.train_dataloader.sampler._versions[1] >= 1
