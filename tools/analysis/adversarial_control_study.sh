#!/usr/bin/env bash
# ASR+AHO vs the random baseline vs its control, synthetic bodies, CPU scale (seed 001).
#
# The joint step trains its AHO third on the plain crop (occluded), while the random baseline
# warps every image, and the validation crops are plain: part of "ASR+AHO beats random" could
# be "a third of the batch unwarped". The control (`stage3-random-plain-third`) is the random
# baseline with its last third on the plain crop. Protocol:
#   1. stage 1 (D, random augmentation) and stage 2 (G against the frozen D) once, seed 0;
#   2. stage 3 of the three arms from those checkpoints (random and control from stage 1, as
#      the shipped configs do; ASR+AHO with the release's clipping from stage 2), same
#      schedule (2 epochs, batch 12, 334 iterations), seeds SEEDS (data order and every draw);
#   3. tools/analysis/seed_study.py tables: mean +- std and paired differences to random.
#   LANES=2 bash tools/analysis/adversarial_control_study.sh
# Cost measured here (LANES=1, one thread, the other core busy): about 33 min in all.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
WORK=${WORK_DIR:-work_dirs/adversarial_control_study}
SEEDS=${SEEDS:-"0 1 2 3 4"}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
CFG=configs/adversarial_aug/synthetic/adv-aug_res18-w16
"$PY" tools/misc/make_synthetic_data.py --root data/synthetic
mkdir -p "$WORK"
[ -f "$WORK/s1/epoch_2.pth" ] || "$PY" tools/train.py ${CFG}_stage1-pose_synthetic-body-64x64.py \
  --work-dir "$WORK/s1" --cfg-options randomness.seed=0
[ -f "$WORK/s2/epoch_1.pth" ] || "$PY" tools/train.py \
  ${CFG}_stage2-augmenter_synthetic-body-64x64.py --work-dir "$WORK/s2" \
  --cfg-options randomness.seed=0 "load_from=$WORK/s1/epoch_2.pth"
S1="load_from=$ROOT/$WORK/s1/epoch_2.pth"
S2="load_from=$ROOT/$WORK/s2/epoch_1.pth"
ARMS=("random=${CFG}_stage3-random_synthetic-body-64x64.py,$S1"
      "control=${CFG}_stage3-random-plain-third_synthetic-body-64x64.py,$S1"
      "asr-aho=${CFG}_stage3-asr-aho_synthetic-body-64x64.py,$S2,model.clip_target=True")
KEYS="PCK coco/AP"
lane() {  # arms of one lane, one after the other
  for arm in "$@"; do
    "$PY" tools/analysis/seed_study.py "$WORK" --arm "$arm" --seeds $SEEDS --keys $KEYS
  done
}
if [ "${LANES:-2}" -ge 2 ]; then
  lane "${ARMS[0]}" "${ARMS[1]}" > "$WORK/lane1.log" 2>&1 &
  lane "${ARMS[2]}" > "$WORK/lane2.log" 2>&1 &
  wait
else
  lane "${ARMS[@]}" > "$WORK/lane1.log" 2>&1
fi
"$PY" tools/analysis/seed_study.py "$WORK" --arm "${ARMS[0]}" --arm "${ARMS[1]}" \
  --arm "${ARMS[2]}" --seeds $SEEDS --keys $KEYS --baseline random --summarize-only \
  --out "$WORK/control_study.md"
