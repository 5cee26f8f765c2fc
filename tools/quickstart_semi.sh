#!/usr/bin/env bash
# The semi-supervised extension of the quickstart (seed 000 study at CPU scale): on the
# synthetic bodies with the first 100 instances labeled (5 %) and every box unlabeled, train
# supervised vs PoseCons (same-distribution views: the collapsing setup) vs PoseDual for the
# same number of iterations, evaluate each, print the table and plot the response curves.
#   ITERS=1200 bash tools/quickstart_semi.sh      (default 1200 iterations per regime)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash tools/setup_env.sh
PY="$ROOT/.venv/bin/python"
ITERS=${ITERS:-1200}
WORK=${WORK_DIR:-work_dirs/quickstart_semi}
"$PY" tools/misc/make_synthetic_data.py --root data/synthetic
SPLIT=data/synthetic/body/semi_anns/person_keypoints_train.labeled@first100.json
[ -f "$SPLIT" ] || "$PY" tools/misc/split_coco_keypoints.py \
  data/synthetic/body/annotations/person_keypoints_train.json --first-n 100 \
  --out-dir data/synthetic/body/semi_anns
VAL=$((ITERS / 4))
for regime in supervised posecons-same posedual; do
  cfg=configs/posedual/synthetic/${regime}_res18-w32_synthetic-body-first100-128x96.py
  if [ ! -f "$WORK/$regime/iter_$ITERS.pth" ]; then
    "$PY" tools/train.py "$cfg" --work-dir "$WORK/$regime" --cfg-options \
      train_cfg.max_iters=$ITERS train_cfg.val_interval=$VAL \
      "param_scheduler.1.milestones=[$((ITERS * 4 / 5))]" param_scheduler.1.end=$ITERS \
      default_hooks.checkpoint.interval=$VAL
  fi
  "$PY" tools/test.py "$cfg" "$WORK/$regime/iter_$ITERS.pth" --work-dir "$WORK/$regime/test" \
    --out "$WORK/$regime/metrics.json"
done
"$PY" tools/analysis/plot_response.py "$WORK/posecons-same" "$WORK/posedual" \
  --labels PoseCons PoseDual --out "$WORK/response.png"
"$PY" - "$WORK" <<'PY'
import json, sys
print('[mmssl quickstart_semi] synthetic bodies, 5 % labeled, val with GT boxes')
for regime in ('supervised', 'posecons-same', 'posedual'):
    m = json.load(open(f'{sys.argv[1]}/{regime}/metrics.json'))
    keys = [k for k in m if k.endswith('coco/AP') or k.endswith('PCK')]
    print(f'  {regime:14s} ' + '  '.join(f'{k}={m[k]:.4f}' for k in sorted(keys)))
PY
