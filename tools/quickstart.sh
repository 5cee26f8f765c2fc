#!/usr/bin/env bash
# One command: set up .venv (idempotent), generate the embedded synthetic data if missing,
# train a ResNet-18 SimpleBaseline from MMPose's unmodified COCO config on it, evaluate and
# print the metrics. A few minutes on a 2-core CPU after the one-time set-up.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash tools/setup_env.sh
PY="$ROOT/.venv/bin/python"
"$PY" tools/misc/make_synthetic_data.py --root data/synthetic
CFG=configs/quickstart/td-hm_res18_synthetic-body-128x96.py
WORK=${WORK_DIR:-work_dirs/quickstart}
"$PY" tools/train.py "$CFG" --work-dir "$WORK" "$@"
"$PY" tools/test.py "$CFG" "$WORK/epoch_8.pth" --work-dir "$WORK/test" --out "$WORK/metrics.json"
"$PY" - "$WORK/metrics.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
print('[mmssl quickstart] supervised ResNet-18 on synthetic bodies (val, GT boxes): '
      + ', '.join(f'{k}={v:.4f}' for k, v in m.items()
                  if k in ('coco/AP', 'coco/AP .5', 'coco/AR', 'PCK')))
PY
