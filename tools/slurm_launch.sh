#!/usr/bin/env bash
# Shared by tools/slurm_train.sh and tools/slurm_test.sh: srun one task per GPU running
# tools/SCRIPT with the given arguments (the callers add --launcher=slurm).
# Usage: [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] [GRES=...] [PORT=...] \
#        bash tools/slurm_launch.sh PARTITION JOB_NAME SCRIPT [SCRIPT args...]
# GPUS tasks in all, GPUS_PER_NODE per node. On a CPU-only partition set GRES= (empty: no
# --gres request); each task then joins a gloo group. PORT (or MASTER_PORT) sets the
# rendezvous port (default 29500), PYTHON the interpreter (default: .venv's).
set -x
PARTITION=$1
JOB_NAME=$2
SCRIPT=$3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
GRES=${GRES-gpu:${GPUS_PER_NODE}}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [ -z "${PYTHON:-}" ]; then
  PYTHON=python
  [ -x "$ROOT/.venv/bin/python" ] && [ -z "${VIRTUAL_ENV:-}" ] && PYTHON="$ROOT/.venv/bin/python"
fi
export MASTER_PORT=${PORT:-${MASTER_PORT:-29500}}

PYTHONPATH="$ROOT:${PYTHONPATH:-}" OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} \
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    ${GRES:+--gres=${GRES}} \
    --ntasks=${GPUS} \
    --ntasks-per-node=${GPUS_PER_NODE} \
    --cpus-per-task=${CPUS_PER_TASK} \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    "$PYTHON" -u "$ROOT/tools/$SCRIPT" "${@:4}"
