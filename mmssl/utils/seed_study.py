"""Multi-seed comparisons of configs: mean +- std per arm and paired differences per seed.

A study is a list of *arms* (a name, a config and ``--cfg-options``) run over the same seeds
(``randomness.seed=<seed>``; everything else as the arm's config says). The evidence tables of
the model zoo READMEs come from :func:`summarize` / :func:`format_markdown` over the metrics
each run's ``tools/test.py --out`` wrote, so a table can always be recomputed from the files.
"""
import json
import math
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence


@dataclass
class Arm:
    """One arm of a study: ``name`` (a folder name), ``config`` and its ``cfg_options``
    (``key=value`` strings as on the command line)."""
    name: str
    config: str
    cfg_options: List[str] = field(default_factory=list)

    @classmethod
    def parse(cls, spec: str) -> 'Arm':
        """``NAME=CONFIG[,key=value,...]`` (the form of the tool's ``--arm``)."""
        name, sep, rest = spec.partition('=')
        if not sep or not name or not rest:
            raise ValueError(f'an arm is NAME=CONFIG[,key=value...], got {spec!r}')
        config, *options = rest.split(',')
        return cls(name, config, options)


def run_dir(work_dir: str, arm: str, seed: int) -> str:
    return osp.join(work_dir, arm, f'seed{seed}')


def metrics_file(work_dir: str, arm: str, seed: int) -> str:
    """Where the run's ``tools/test.py --out`` metrics live."""
    return osp.join(run_dir(work_dir, arm, seed), 'metrics.json')


def load_metrics(work_dir: str, arms: Sequence[str],
                 seeds: Sequence[int]) -> Dict[str, Dict[int, Dict[str, float]]]:
    """``{arm: {seed: metrics}}`` of the runs that finished; a missing file is left out."""
    out: Dict[str, Dict[int, Dict[str, float]]] = {}
    for arm in arms:
        for seed in seeds:
            path = metrics_file(work_dir, arm, seed)
            if osp.exists(path):
                with open(path) as f:
                    try:
                        out.setdefault(arm, {})[seed] = json.load(f)
                    except json.JSONDecodeError as e:
                        raise ValueError(f'{path} is not a metrics JSON file: {e}') from e
    return out


def mean_std(values: Sequence[float]) -> tuple:
    """Mean and sample standard deviation (0 for a single value)."""
    n = len(values)
    if n == 0:
        raise ValueError('mean_std of no values')
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.
    return mean, math.sqrt(var)


@dataclass
class Summary:
    """Per arm and key: the per-seed values; per compared arm: the paired differences
    ``arm - baseline`` on the seeds both finished."""
    seeds: List[int]
    values: Dict[str, Dict[str, Dict[int, float]]]  # arm -> key -> seed -> value
    diffs: Dict[str, Dict[str, Dict[int, float]]]  # arm -> key -> seed -> arm - baseline
    baseline: str


def summarize(metrics: Dict[str, Dict[int, Dict[str, float]]], keys: Sequence[str],
              baseline: str) -> Summary:
    """Collect ``keys`` of every arm and the paired differences to ``baseline``."""
    if baseline not in metrics:
        raise KeyError(f'baseline arm {baseline!r} has no finished run; finished: '
                       f'{sorted(metrics)}')
    values: Dict[str, Dict[str, Dict[int, float]]] = {}
    for arm, runs in metrics.items():
        for seed, m in runs.items():
            for key in keys:
                if key not in m:
                    raise KeyError(f'arm {arm!r} seed {seed}: metric {key!r} not in its '
                                   f'metrics ({sorted(m)})')
                values.setdefault(arm, {}).setdefault(key, {})[seed] = float(m[key])
    diffs: Dict[str, Dict[str, Dict[int, float]]] = {}
    for arm in values:
        if arm == baseline:
            continue
        for key in keys:
            base, ours = values[baseline][key], values[arm][key]
            diffs.setdefault(arm, {})[key] = {s: ours[s] - base[s] for s in sorted(ours)
                                              if s in base}
    seeds = sorted({s for runs in metrics.values() for s in runs})
    return Summary(seeds, values, diffs, baseline)


def _fmt(values: Sequence[float], digits: int, signed: bool = False) -> str:
    mean, std = mean_std(values)
    sign = '+' if signed else ''
    return f'{mean:{sign}.{digits}f} +- {std:.{digits}f}'


def format_markdown(summary: Summary, keys: Sequence[str], digits: int = 4,
                    per_seed: bool = True) -> str:
    """Markdown tables: per seed (optional), mean +- std per arm, paired differences."""
    lines = []
    arms = list(summary.values)
    if per_seed:
        head = ['seed'] + [f'{arm} {key}' for key in keys for arm in arms]
        lines += ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
        for seed in summary.seeds:
            row = [str(seed)] + [
                f'{summary.values[arm][key][seed]:.{digits}f}'
                if seed in summary.values[arm][key] else '-' for key in keys for arm in arms]
            lines.append('| ' + ' | '.join(row) + ' |')
        lines.append('')
    head = ['arm', 'runs'] + [f'{key} (mean +- std)' for key in keys]
    lines += ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for arm in arms:
        n = len(next(iter(summary.values[arm].values())))
        lines.append('| ' + ' | '.join(
            [arm, str(n)] + [_fmt(list(summary.values[arm][k].values()), digits)
                             for k in keys]) + ' |')
    if summary.diffs:
        lines += ['', f'Paired differences (arm - {summary.baseline}, same seed):', '']
        head = ['arm', 'pairs'] + [f'{key} diff (mean +- std)' for key in keys] + \
            [f'{key}: arm higher' for key in keys]
        lines += ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
        for arm, per_key in summary.diffs.items():
            n = len(next(iter(per_key.values())))
            if n == 0:
                continue
            cells = [arm, str(n)]
            cells += [_fmt(list(per_key[k].values()), digits, signed=True) for k in keys]
            cells += [f'{sum(d > 0 for d in per_key[k].values())} of {n}' for k in keys]
            lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, path)


def train_command(python: str, arm: Arm, seed: int, work_dir: str,
                  extra_options: Optional[Sequence[str]] = None) -> List[str]:
    """``tools/train.py`` of one run: the arm's config and options, then the seed."""
    options = list(arm.cfg_options) + list(extra_options or []) + [f'randomness.seed={seed}']
    return [python, 'tools/train.py', arm.config, '--work-dir',
            run_dir(work_dir, arm.name, seed), '--cfg-options', *options]


def test_command(python: str, arm: Arm, seed: int, work_dir: str, checkpoint: str,
                 extra_options: Optional[Sequence[str]] = None) -> List[str]:
    """``tools/test.py`` of one run's checkpoint, metrics to :func:`metrics_file`."""
    cmd = [python, 'tools/test.py', arm.config, checkpoint, '--work-dir',
           osp.join(run_dir(work_dir, arm.name, seed), 'test'),
           '--out', metrics_file(work_dir, arm.name, seed)]
    options = list(arm.cfg_options) + list(extra_options or [])
    return cmd + (['--cfg-options', *options] if options else [])


def last_checkpoint(directory: str) -> str:
    """The checkpoint mmengine's ``last_checkpoint`` file names in ``directory``."""
    marker = osp.join(directory, 'last_checkpoint')
    if not osp.exists(marker):
        raise FileNotFoundError(f'{directory} has no last_checkpoint: the run did not save')
    with open(marker) as f:
        path = f.read().strip()
    return path if osp.isabs(path) or osp.exists(path) else osp.join(directory,
                                                                       osp.basename(path))
