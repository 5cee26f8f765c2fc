"""tools/analysis/plot_stld.py reads runner state files and writes the curves as a PNG."""
import importlib.util
import json

import pytest

from stld_helpers import REPO_ROOT, single_thread  # noqa: F401


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        'plot_stld', REPO_ROOT / 'tools/analysis/plot_stld.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _state(path, test_nme, pseudo_nme):
    completed = {}
    for r, v in enumerate(test_nme):
        completed[f'round{r}_eval'] = dict(
            spec=dict(kind='eval', round=r),
            metrics={'NME': v, 'AUC@0.1': 1 - 5 * v, 'FR@0.1': 0.0})
    for r, v in enumerate(pseudo_nme):
        completed[f'round{r}_pseudo_label'] = dict(
            spec=dict(kind='label', round=r), metrics={'pseudo/NME': v})
    path.mkdir()
    (path / 'self_training_state.json').write_text(json.dumps(dict(version=1,
                                                                   completed=completed)))
    return str(path)


def test_plot_reads_rounds_and_writes_png(tmp_path):
    tool = _load_tool()
    runs = {'STLD': tool.read_run(_state(tmp_path / 'a', [0.08, 0.06, 0.05], [0.09, 0.07])),
            'naive': tool.read_run(_state(tmp_path / 'b', [0.08, 0.075, 0.074], [0.09]))}
    assert runs['STLD']['test'] == {0: 0.08, 1: 0.06, 2: 0.05}
    assert runs['naive']['pseudo'] == {0: 0.09}
    runs = {label: [curves] for label, curves in runs.items()}
    out = tmp_path / 'curves.png'
    tool.plot(runs, str(out), 'test')
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and out.stat().st_size > 10_000
    text = tool.table(runs)
    assert '| STLD | test NME % | 8.00 | 6.00 | 5.00 |' in text
    assert '| naive | pseudo-label NME % | 9.00 | - | - |' in text
    with pytest.raises(FileNotFoundError, match='self_training_state.json'):
        tool.read_run(str(tmp_path))


def test_several_work_dirs_of_a_label_give_mean_and_std(tmp_path):
    tool = _load_tool()
    for seed, last in enumerate((0.04, 0.05, 0.06)):
        _state(tmp_path / f'seed{seed}', [0.08, 0.06, last], [0.09, 0.07, last + 0.01])
    dirs = tool.work_dirs_of(str(tmp_path / 'seed*'))
    assert [d[-5:] for d in dirs] == ['seed0', 'seed1', 'seed2']
    assert tool.work_dirs_of(f'{dirs[0]},{dirs[2]}') == [dirs[0], dirs[2]]
    runs = {'paper': [tool.read_run(d) for d in dirs], 'one': [tool.read_run(dirs[0])]}
    text = tool.table(runs)
    # round 2: mean 5.00, std (ddof 1) 1.00 over the three seeds
    assert '| paper | test NME % | 8.00 +- 0.00 | 6.00 +- 0.00 | 5.00 +- 1.00 |' in text
    assert '| paper | pseudo-label NME % | 9.00 +- 0.00 | 7.00 +- 0.00 | 6.00 +- 1.00 |' in text
    assert '| one | test NME % | 8.00 | 6.00 | 4.00 |' in text
    per_run = tool.run_table(runs, dict(paper=['seed0', 'seed1', 'seed2'], one=['seed0']))
    assert '| paper | seed1 | 8.00 | 6.00 | 5.00 |' in per_run
    assert '| one | seed0 | 8.00 | 6.00 | 4.00 |' in per_run
    assert '| paper | seed2 | 9.00 | 7.00 | 7.00 |' in tool.run_table(
        runs, dict(paper=['seed0', 'seed1', 'seed2'], one=['seed0']), 'pseudo')
    out = tmp_path / 'arms.png'
    tool.plot(runs, str(out), first_round=1)
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    with pytest.raises(FileNotFoundError, match='no work_dir matches'):
        tool.work_dirs_of(str(tmp_path / 'nothing*'))
