#!/usr/bin/env bash
# One command: set up .venv (idempotent), generate the embedded synthetic data if missing, and
# run mmssl's main job on it, semi-supervised pose training:
#   1. split the synthetic bodies: the first 100 persons labeled (5 %), every box unlabeled;
#   2. train two supervised SimpleBaselines (MMPose's unmodified COCO config, 32-channel
#      ResNet-18 at 128x96) on the labeled persons, seeds 0 and 1;
#   3. start PoseDual's two networks from them (net1 <- seed 0, net2 <- seed 1) and train it on
#      labeled + unlabeled data;
#   4. evaluate the supervised pair and PoseDual (each network and their heatmap ensemble) on
#      the val split and print both.
# Fixed seeds: every run prints the same numbers (CPU). Under 10 minutes on a 2-core CPU after
# the one-time set-up. WORK_DIR=... changes the output folder (default work_dirs/quickstart).
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [ "$#" -gt 0 ]; then
  echo "usage: bash tools/quickstart.sh   (no arguments; WORK_DIR=DIR to change the output)" >&2
  exit 2
fi
STEP='start'
on_error() {
  local rc=$?
  echo "[mmssl quickstart] FAILED in step \"$STEP\" (exit $rc); its output is above" >&2
  exit "$rc"
}
trap on_error ERR
step() {
  STEP=$1
  echo "[mmssl quickstart] step: $STEP (at $((SECONDS / 60)) min $((SECONDS % 60)) s)"
}

step 'set up the environment (tools/setup_env.sh)'
bash tools/setup_env.sh
PY="$ROOT/.venv/bin/python"
# deterministic=True of the configs makes CUDA runs reproducible too; cuBLAS then needs this
export CUBLAS_WORKSPACE_CONFIG=${CUBLAS_WORKSPACE_CONFIG:-:4096:8}

step 'write the synthetic data (tools/misc/make_synthetic_data.py)'
"$PY" tools/misc/make_synthetic_data.py --root data/synthetic
SPLIT=data/synthetic/body/semi_anns/person_keypoints_train.labeled@first100.json
step 'split it: first 100 persons labeled, every box unlabeled'
[ -f "$SPLIT" ] || "$PY" tools/misc/split_coco_keypoints.py \
  data/synthetic/body/annotations/person_keypoints_train.json --first-n 100 \
  --out-dir data/synthetic/body/semi_anns

SUP_CFG=configs/quickstart/td-hm_res18_synthetic-body-first100-128x96.py
DUAL_CFG=configs/quickstart/posedual_res18_synthetic-body-first100-128x96.py
WORK=${WORK_DIR:-work_dirs/quickstart}
last_ckpt() {  # the checkpoint a training run ended with
  local file="$1/last_checkpoint"
  if [ ! -f "$file" ]; then
    echo "[mmssl quickstart] $file missing: the training run wrote no checkpoint" >&2
    return 1
  fi
  cat "$file"
}
SEEDS=(0 1)
for seed in "${SEEDS[@]}"; do
  step "train the supervised model, seed $seed (tools/train.py $SUP_CFG)"
  "$PY" tools/train.py "$SUP_CFG" --work-dir "$WORK/supervised-seed$seed" \
    --cfg-options randomness.seed="$seed"
done
step 'start PoseDual from the two supervised models (tools/misc/pose_dual_init.py)'
NET1=$(last_ckpt "$WORK/supervised-seed${SEEDS[0]}")
NET2=$(last_ckpt "$WORK/supervised-seed${SEEDS[1]}")
"$PY" tools/misc/pose_dual_init.py "$NET1" "$NET2" --out "$WORK/supervised_pair.pth"
step 'evaluate the supervised pair (tools/test.py)'
"$PY" tools/test.py "$DUAL_CFG" "$WORK/supervised_pair.pth" --work-dir "$WORK/supervised_pair" \
  --out "$WORK/supervised_pair/metrics.json"
step "train PoseDual from them (tools/train.py $DUAL_CFG)"
"$PY" tools/train.py "$DUAL_CFG" --work-dir "$WORK/posedual" \
  --cfg-options load_from="$WORK/supervised_pair.pth"
step 'evaluate PoseDual (tools/test.py)'
DUAL_CKPT=$(last_ckpt "$WORK/posedual")
"$PY" tools/test.py "$DUAL_CFG" "$DUAL_CKPT" --work-dir "$WORK/posedual/test" \
  --out "$WORK/posedual/metrics.json"
step 'summary'
"$PY" tools/misc/quickstart_summary.py "$SUP_CFG" "$DUAL_CFG" \
  "$WORK/supervised_pair/metrics.json" "$WORK/posedual/metrics.json" --seeds "${SEEDS[@]}"
echo "[mmssl quickstart] done in $((SECONDS / 60)) min $((SECONDS % 60)) s (work dir $WORK)"
