"""A stand-in for Slurm's ``srun`` for tests (imported by the tests of this folder).

It starts ``--ntasks`` copies of the command on this machine with the variables ``srun``
sets (``SLURM_PROCID``, ``SLURM_LOCALID``, ``SLURM_NTASKS``, ``SLURM_NODELIST``, ...), waits
for them and exits with the worst exit code. Every call and the tasks' exit codes are
appended to a JSON-lines log. With ``$FAKE_SRUN_DRY_RUN`` set it only records the call.
"""
import sys
from pathlib import Path
from typing import Tuple

FAKE_SRUN = r'''#!{python}
import json, os, subprocess, sys

args, i, opts = sys.argv[1:], 0, {{}}
while i < len(args) and args[i].startswith('-'):
    key, sep, val = args[i].partition('=')
    if not sep and key in ('-p', '--partition', '-J', '--job-name', '-n', '--ntasks'):
        i, val = i + 1, args[i + 1]
    opts[key] = val
    i += 1
cmd = args[i:]
ntasks = int(opts.get('--ntasks', opts.get('-n', 1)))
with open({log!r}, 'a') as f:
    f.write(json.dumps(dict(opts=opts, cmd=cmd)) + '\n')
if os.environ.get('FAKE_SRUN_DRY_RUN'):
    sys.exit(0)
procs = []
for rank in range(ntasks):
    env = dict(os.environ, SLURM_PROCID=str(rank), SLURM_LOCALID=str(rank),
               SLURM_NTASKS=str(ntasks), SLURM_NPROCS=str(ntasks), SLURM_NNODES='1',
               SLURM_NODEID='0', SLURM_NODELIST='localhost', SLURM_JOB_NODELIST='localhost',
               SLURM_JOB_ID='4242', SLURM_STEP_ID='0',
               SLURM_JOB_NAME=opts.get('--job-name', opts.get('-J', 'job')),
               SLURM_NTASKS_PER_NODE=opts.get('--ntasks-per-node', str(ntasks)))
    procs.append(subprocess.Popen(cmd, env=env))
codes = [p.wait() for p in procs]
with open({log!r}, 'a') as f:
    f.write(json.dumps(dict(exit_codes=codes)) + '\n')
sys.exit(max(codes))
'''


def write_fake_srun(folder: Path) -> Tuple[Path, Path]:
    """Write ``folder/bin/srun``; returns the folder to put first on PATH and the log."""
    bin_dir, log = folder / 'bin', folder / 'srun_calls.jsonl'
    bin_dir.mkdir(parents=True, exist_ok=True)
    srun = bin_dir / 'srun'
    srun.write_text(FAKE_SRUN.format(python=sys.executable, log=str(log)))
    srun.chmod(0o755)
    return bin_dir, log
