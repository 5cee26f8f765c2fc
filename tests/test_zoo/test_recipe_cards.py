"""Recipe cards against the metafiles: every config's card (its launch and the paper's dataset
sizes, from the metafile) matches the recipe of the paper/release recorded for it, or the
metafile states the deviation and why; the checks fail on a changed recipe."""
import copy
import subprocess
import sys

import pytest
import yaml
from mmengine.config import Config

from mmssl.zoo import (RECIPE_FIELDS, MetafileError, check_schedule, compare, load_metafile,
                       load_model_index, recipe_card)
from mmssl_testing import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / 'tests' / 'test_configs'))
from as_shipped import list_configs  # noqa: E402

CONFIGS = list_configs()
INDEX = load_model_index(REPO_ROOT)


def _card(model, cfg=None):
    cfg = cfg or Config.fromfile(str(REPO_ROOT / model.config))
    return recipe_card(cfg, model.config, int(model.shipped.get('gpus', 1)),
                       model.recipe.get('dataset_sizes') or {})


def test_every_config_has_a_metafile_row():
    rows = {m.config for m in INDEX.models}
    missing = [c for c in CONFIGS if f'configs/{c}' not in rows]
    assert not missing, f'configs without a metafile row: {missing}'
    gone = [r for r in rows if not (REPO_ROOT / r).is_file()]
    assert not gone, f'metafile rows whose Config does not exist: {gone}'
    names = [m.name for m in INDEX.models]
    assert len(names) == len(set(names)), 'duplicate model names in the metafiles'


@pytest.mark.parametrize('rel_path', CONFIGS)
def test_recipe_card_matches_metafile(rel_path):
    models = INDEX.models_of(f'configs/{rel_path}')
    assert models, f'configs/{rel_path}: no metafile row'
    for model in models:
        card = _card(model)
        assert not card.problems, f'{model.config}: {card.problems}'
        diff = compare(card, model)
        unstated = {k: v for k, v in diff.items() if k not in model.deviations}
        assert not unstated, (
            f'{model.config}: the recipe card differs from the metafile recipe in '
            f'{unstated} (config vs recipe) and {model.metafile} states no deviation for it')
        stale = [k for k in model.deviations if k not in diff]
        assert not stale, (f'{model.config}: {model.metafile} states deviations {stale} that '
                           'the card does not show (remove them)')


def _model(name_part):
    return next(m for m in INDEX.models if name_part in m.config)


def test_changed_learning_rate_or_flip_is_caught():
    model = _model('stld/stld-hm_res18_1xb16-60e_300w-5pct')
    cfg = Config.fromfile(str(REPO_ROOT / model.config))
    cfg.self_training.protocol = 'paper'  # the recipe's switches (the default deviates)
    assert not compare(_card(model, cfg), model)
    cfg.optim_wrapper.optimizer.lr = 1e-3
    cfg.model.test_cfg.flip_test = True
    assert set(compare(_card(model, cfg), model)) == {'lr', 'flip_test'}


def test_changed_stld_protocol_is_caught():
    model = _model('stld/stld-hm_res18_1xb16-60e_300w-5pct')
    paper = dict(standard_pseudo_output='main', pseudo_loss_weight_index='paper',
                 last_round_oversample=True)
    assert model.recipe['switches'] == paper  # the recipe is the paper's text
    cfg = Config.fromfile(str(REPO_ROOT / model.config))
    card = _card(model, cfg)  # the shipped default: the release's last-round output
    assert 'standard_pseudo_output=shrink' in card.format()
    assert set(compare(card, model)) == {'switches'} and 'switches' in model.deviations
    cfg.self_training.protocol = 'paper'
    assert not compare(_card(model, cfg), model)
    cfg.self_training.protocol = 'release'
    assert compare(_card(model, cfg), model)['switches'][0] == dict(
        standard_pseudo_output='shrink', pseudo_loss_weight_index='release',
        last_round_oversample=False)
    # a recipe that does not state the switches is not compared on them
    quiet = copy.deepcopy(model)
    quiet.recipe.pop('switches')
    assert not compare(card, quiet)


def test_changed_schedule_or_batch_is_caught():
    model = _model('posedual/coco/posedual_res18_8xb8-30e_coco-1k')
    cfg = Config.fromfile(str(REPO_ROOT / model.config))
    card = _card(model, cfg)
    # 8 GPUs x (4 + 4) = the release's 32 + 32 per step: 150000 // 32 = 4687 steps per epoch
    assert card.stages[0].iters_per_epoch == 4687
    assert card.optimizer_steps == 4687 * 30 == model.recipe['optimizer_steps']
    assert card.stages[0].lr_steps_iters == [4687 * 20, 4687 * 25]
    assert card.stages[0].warmup_iters == 0
    assert not compare(card, model)
    one_gpu = recipe_card(cfg, model.config, 1, model.recipe['dataset_sizes'])
    assert one_gpu.optimizer_steps == 37500 * 30  # 4 + 4 on one GPU: 8x the steps
    cfg.train_dataloader.batch_size = cfg.train_dataloader.sampler.batch_size = 64
    diff = compare(_card(model, cfg), model)  # 8 GPUs x (32 + 32): the old config
    assert diff['batch'] == ([256, 256], [32, 32])
    assert diff['optimizer_steps'] == (585 * 30, 140610)


def test_warmup_longer_than_the_run_is_a_problem():
    model = _model('posedual/coco/posedual_res18_8xb8-30e_coco-1k')
    cfg = Config.fromfile(str(REPO_ROOT / model.config))
    cfg.train_cfg.max_epochs = 10
    cfg.param_scheduler = [
        dict(type='LinearLR', begin=0, end=500, start_factor=1e-3, by_epoch=False),
        dict(type='MultiStepLR', begin=0, end=10, milestones=[8], by_epoch=True)]
    card = recipe_card(cfg, model.config, 8, dict(labeled=1000, unlabeled=1000))
    assert card.optimizer_steps == 31 * 10  # 1000 // 32 steps per epoch
    assert any('warm-up (500 iterations) is not shorter than the run (310' in p
               for p in card.problems)


def test_scheduler_longer_or_shorter_than_the_loop_is_refused():
    cfg = Config.fromfile(str(REPO_ROOT / 'configs/quickstart/td-hm_res18_synthetic-body-128x96.py'))
    check_schedule(cfg, 'ok')
    longer = copy.deepcopy(cfg)
    longer.param_scheduler[-1]['end'] = 210
    with pytest.raises(ValueError, match=r'quick\.py: param_scheduler MultiStepLR ends at '
                       r'epoch 210, after the loop'):
        check_schedule(longer, 'quick.py')
    shorter = copy.deepcopy(cfg)
    shorter.train_cfg.max_epochs = 20
    with pytest.raises(ValueError, match='before the loop ends'):
        check_schedule(shorter, 'quick.py')


def test_self_training_card_lists_every_train_stage():
    model = _model('stld/stld-hm_res18_1xb16-60e_300w-1.6pct')
    card = _card(model)
    names = [s.name for s in card.stages]
    assert names[0] == 'round0_supervised' and names[-1] == 'round4_mixed'
    assert len(names) == 1 + 2 * 4
    sizes = model.recipe['dataset_sizes']  # 50 labeled, oversampled x2 to >= 100; 3098
    assert sizes == dict(labeled=50, unlabeled=3098)
    assert card.stages[0].samples_per_epoch == 100
    assert card.stages[0].total_iters == 60 * 7  # ceil(100 / 16) x 60 epochs
    pretrain2 = card.stages[names.index('round2_pseudo_pretrain')]
    assert pretrain2.epochs == 12 and pretrain2.samples_per_epoch == 3098
    assert card.stages[-1].samples_per_epoch == 100 + 3098
    assert card.stages[-1].lr_steps_iters == [40 * 200, 50 * 200]  # ceil(3198 / 16) = 200
    # the default protocol ('measured'): round T's pseudo-labels keep the second output
    assert card.stages[-1].pseudo == 'lambda 1, shrink value 1.5, shrink output'
    cfg = Config.fromfile(str(REPO_ROOT / model.config))
    cfg.self_training.protocol = 'paper'
    assert _card(model, cfg).stages[-1].pseudo == 'lambda 1, shrink value 1.5, main output'


def test_self_training_card_shows_the_release_protocol():
    model = _model('stld/stld-hm_res18_1xb16-60e_300w-1.6pct')
    cfg = Config.fromfile(str(REPO_ROOT / model.config))
    cfg.self_training.protocol = 'release'
    stages = {s.name: s for s in _card(model, cfg).stages}
    assert stages['round2_mixed'].pseudo == 'lambda 0.1, shrink value 2.2, shrink output'
    assert stages['round3_mixed'].pseudo == 'lambda 1, shrink value 1.8, shrink output'
    assert stages['round4_mixed'].pseudo == 'lambda 1, shrink value 1.5, shrink output'
    assert stages['round3_mixed'].samples_per_epoch == 100 + 3098  # oversampled 50 -> 100
    assert stages['round4_mixed'].samples_per_epoch == 50 + 3098  # the original 50
    assert stages['round4_mixed'].total_iters == 60 * 197  # ceil(3148 / 16)
    # 180 steps fewer than the metafile recipe: within its tolerance
    assert _card(model, cfg).optimizer_steps == model.recipe['optimizer_steps'] - 60 * 3


def test_print_recipe_tool(tmp_path):
    tool = str(REPO_ROOT / 'tools/analysis/print_recipe.py')
    rel = 'configs/posedual/coco/posedual_res18_8xb8-30e_coco-1k-256x192.py'
    out = subprocess.run([sys.executable, tool, str(REPO_ROOT / rel)], capture_output=True,
                         text=True, check=True, cwd=str(REPO_ROOT)).stdout
    for text in ('8 x 4:4 (labeled:unlabeled) = 64 per optimizer step',
                 'iterations / epoch   4687', 'iterations in total  140610',
                 'lr steps at          [93740, 117175] iterations', 'warm-up              0',
                 'flip test    False', 'save_best    ensemble/coco/AP (greater)'):
        assert text in out, f'{text!r} not in:\n{out}'
    assert 'deviation' not in out
    out = subprocess.run([sys.executable, tool, str(REPO_ROOT / rel), '--gpus', '1',
                          '--dataset-sizes', 'labeled=1000', 'unlabeled=257252'],
                         capture_output=True, text=True, check=True, cwd=str(REPO_ROOT)).stdout
    assert 'iterations / epoch   64313' in out and '(--auto-scale-lr: 0.000125)' in out
    rel = 'configs/adversarial_aug/mpii/adv-aug_hourglass52_stage1-pose_8xb24-10e_mpii-256x256.py'
    out = subprocess.run([sys.executable, tool, str(REPO_ROOT / rel)], capture_output=True,
                         text=True, check=True, cwd=str(REPO_ROOT)).stdout
    assert 'deviation    optimizer_steps: config 1150 vs recipe 9260' in out


def test_zoo_tables_in_sync():
    out = subprocess.run([sys.executable, str(REPO_ROOT / 'tools/analysis/zoo_tables.py'),
                          '--check'], capture_output=True, text=True, cwd=str(REPO_ROOT))
    assert out.returncode == 0, ('README zoo tables out of date; run python '
                                 f'tools/analysis/zoo_tables.py:\n{out.stdout}{out.stderr}')


def test_zoo_table_rows_come_from_the_metafile(tmp_path):
    (tmp_path / 'configs/m').mkdir(parents=True)
    (tmp_path / 'configs/m/README.md').write_text(
        'intro\n<!-- zoo-table:start -->\nold\n<!-- zoo-table:end -->\nrest\n')
    meta = yaml.safe_load((REPO_ROOT / 'configs/quickstart/metafile.yml').read_text())
    meta['Models'][0]['Results'] = [dict(Task='T', Dataset='D', Metrics={'AP': 41.5},
                                         **{'Metric Keys': {'AP': 'coco/AP'}},
                                         Source='paper')]
    (tmp_path / 'configs/m/metafile.yml').write_text(yaml.safe_dump(meta))
    (tmp_path / 'model-index.yml').write_text('Import: [configs/m/metafile.yml]\n')
    run = [sys.executable, str(REPO_ROOT / 'tools/analysis/zoo_tables.py'), '--root',
           str(tmp_path)]
    assert subprocess.run(run + ['--check'], capture_output=True).returncode == 1
    subprocess.run(run, check=True, capture_output=True)
    text = (tmp_path / 'configs/m/README.md').read_text()
    assert text.startswith('intro\n') and text.endswith('rest\n') and 'old' not in text
    assert '| 41.5 | not measured |' in text and '**D, AP** (evaluator key `coco/AP`)' in text
    assert subprocess.run(run + ['--check'], capture_output=True).returncode == 0


@pytest.mark.parametrize('edit, message', [
    (lambda m: m['Models'][0]['Metadata']['Recipe'].pop('lr'), r'missing "lr"'),
    (lambda m: m['Models'][0]['Metadata'].__setitem__(
        'Deviations', [dict(field='lr', why='')]), 'non-empty "why"'),
    (lambda m: m['Models'][0].__setitem__('In Collection', 'Nope'), 'is not one of'),
])
def test_bad_metafile_names_the_file_and_the_problem(tmp_path, edit, message):
    meta = yaml.safe_load((REPO_ROOT / 'configs/quickstart/metafile.yml').read_text())
    edit(meta)
    path = tmp_path / 'metafile.yml'
    path.write_text(yaml.safe_dump(meta))
    with pytest.raises(MetafileError, match=message) as err:
        load_metafile(str(path))
    assert str(path) in str(err.value)


def test_recipe_fields_are_the_issue_list():
    assert RECIPE_FIELDS == ('optimizer_steps', 'batch', 'lr', 'input_size', 'flip_test')
