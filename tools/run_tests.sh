#!/usr/bin/env bash
# The project's test command (README; .ci/run calls exactly this). Extra arguments go to
# pytest, e.g. `bash tools/run_tests.sh tests/test_datasets -x`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
[ $# -eq 0 ] && set -- tests
exec "$ROOT/.venv/bin/python" -m pytest -q -p no:cacheprovider --durations=15 "$@"
