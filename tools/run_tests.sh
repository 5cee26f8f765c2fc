#!/usr/bin/env bash
# The project's test command (README; .ci/run calls exactly this).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m pytest tests -q -p no:cacheprovider --durations=15 "$@"
