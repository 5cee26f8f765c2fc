#!/usr/bin/env bash
# STLD: the paper's text vs the authors' release, measured on the synthetic faces (CPU scale).
#
# The release differs from the paper's text in three switches of the runner (all three:
# self_training.protocol=release; each one on its own on top of the paper's protocol):
#   output     (a) standard_pseudo_output=shrink: the last round's pseudo-labels (sigma_T =
#                  sigma_std) stay on the second output instead of merging into the main one
#   lambda     (b) pseudo_loss_weight_index=release: lambda of rounds 2..4 is 0.1, 1, 1
#                  instead of 0.1, 0.1, 1
#   oversample (c) last_round_oversample=False: round 4 trains on the 30 labeled faces
#                  without oversampling them to 100
# The shipped default, protocol=measured, is the paper's text with (a) for heatmap heads: on
# this HM config it trains exactly what the output arm trains (the arm "measured" runs it by
# name). The results that chose it are in configs/stld/synthetic/switch_study.md.
# Arms (ARMS): paper, release, measured, and any of output lambda oversample. Every arm but paper
# starts from the paper arm's finished stages of the same seed (self_training.
# reuse_stages_from): (a) and (c) retrain only round 4's mixed stage, (b) and release
# everything from round 3's mixed stage on. The config is the shipped synthetic one
# (configs/stld/synthetic/stld-hm_res18-w16_*), seeds SEEDS (randomness.seed: round 0 on).
# Outputs: WORK/<arm>/seed<S>/metrics.json (tools/analysis/stld_round_metrics.py) and the
# tables of tools/analysis/seed_study.py: per-round test NME and pseudo-label NME (%) per seed,
# mean +- std, paired differences to the paper arm (WORK/test_nme.md, pseudo_nme.md, cost.md),
# and tools/analysis/plot_stld.py's curves and per-seed tables (WORK/switch_study.png, rounds.md).
#
# Cost (OMP_NUM_THREADS=1, one process on the shared 2-core machine; measured on one short
# round: ~0.27 s per training iteration of batch 16, ~0.5 s per epoch start, ~7 s per
# pseudo-labelling pass over the 570 unlabeled faces, ~3 s per test pass). Per seed at
# EPOCHS=30: paper ~6170 iterations (~30 min, a whole job), release ~2680 (~13 min), lambda
# ~2860 (~14 min), output ~1320 (~6.5 min), oversample ~1140 (~5.5 min). ARMS="paper release"
# over 3 seeds: ~2.2 h; all five arms: ~3.5 h (without reuse: ~7.6 h). EPOCHS=10 (stages of
# 10 epochs, pretraining from round 2 of 2, LR steps at 7 and 8) costs about a third:
# ~0.8 h / ~1.2 h. LANES=2 runs two seeds side by side (only with a free second core).
#
#   bash tools/analysis/stld_switch_study.sh                         # paper vs release
#   ARMS="paper release output lambda oversample" EPOCHS=10 LANES=2 \
#       bash tools/analysis/stld_switch_study.sh                     # every switch, short
#   DRY_RUN=1 bash tools/analysis/stld_switch_study.sh               # print the commands
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
SEEDS=${SEEDS:-"0 1 2"}
ARMS=${ARMS:-"paper release"}
EPOCHS=${EPOCHS:-30}  # epochs per stage; the shipped config has 30
LANES=${LANES:-1}  # seeds run side by side
DRY_RUN=${DRY_RUN:-0}
WORK=${WORK_DIR:-work_dirs/stld_switch_study_e${EPOCHS}}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
CONFIG=configs/stld/synthetic/stld-hm_res18-w16_1xb16-30e_synthetic-faces-l30-128x128.py
FACES=data/synthetic/faces/annotations
NUM_ROUNDS=4

declare -A OPTIONS=(
  [paper]="self_training.protocol=paper"
  [release]="self_training.protocol=release"
  [measured]="self_training.protocol=measured"
  [output]="self_training.protocol=paper self_training.standard_pseudo_output=shrink"
  [lambda]="self_training.protocol=paper self_training.pseudo_loss_weight_index=release"
  [oversample]="self_training.protocol=paper self_training.last_round_oversample=False"
)
for arm in $ARMS; do
  [ -n "${OPTIONS[$arm]:-}" ] || { echo "unknown arm $arm (known: ${!OPTIONS[*]})" >&2; exit 2; }
done

run() {  # a command, or its echo with DRY_RUN=1
  if [ "$DRY_RUN" = 1 ]; then echo "$*"; else "$@"; fi
}

mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
[ -f "$FACES/face_landmarks_test.json" ] || run "$PY" tools/misc/make_synthetic_data.py
[ -f "$FACES/semi/face_landmarks_train.labeled@30.json" ] || run "$PY" \
  tools/misc/split_landmarks.py --ann-file "$FACES/face_landmarks_train.json" \
  --num-labeled 30 --seed 1234 --out-dir "$FACES/semi"

# the study config: the shipped one, its schedule scaled to EPOCHS (LR steps at 2/3 and 5/6)
STUDY_CFG="$WORK/study_stld.py"
VAL=$(( EPOCHS < 10 ? EPOCHS : 10 ))
cat > "$STUDY_CFG" <<EOF
_base_ = ['$ROOT/$CONFIG']
train_cfg = dict(max_epochs=$EPOCHS, val_interval=$VAL)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=$EPOCHS, by_epoch=True, gamma=0.1,
         milestones=[$(( (2 * EPOCHS + 1) / 3 )), $(( (5 * EPOCHS + 3) / 6 ))])
]
default_hooks = dict(checkpoint=dict(interval=$VAL))
EOF

run_arm() {  # ARM SEED: one self-training job, then its per-round metrics file
  local arm=$1 seed=$2 dir="$WORK/$1/seed$2" reuse=()
  [ -f "$dir/metrics.json" ] && return 0
  [ "$arm" = paper ] || reuse=("self_training.reuse_stages_from=$WORK/paper/seed$seed")
  echo "[stld_switch_study] $arm seed $seed -> $dir" >&2
  run "$PY" tools/train.py "$STUDY_CFG" --work-dir "$dir" --cfg-options \
    "randomness.seed=$seed" ${OPTIONS[$arm]} "${reuse[@]}"
  run "$PY" tools/analysis/stld_round_metrics.py "$dir"
}

run_seed() {  # the paper arm first: the other arms start from its stages
  run_arm paper "$1"
  for arm in $ARMS; do [ "$arm" = paper ] || run_arm "$arm" "$1"; done
}

for seed in $SEEDS; do
  if [ "$LANES" -gt 1 ] && [ "$DRY_RUN" != 1 ]; then
    run_seed "$seed" > "$WORK/lane_seed$seed.log" 2>&1 &
    while [ "$(jobs -rp | wc -l)" -ge "$LANES" ]; do wait -n; done
  else
    run_seed "$seed"
  fi
done
wait
[ "$DRY_RUN" = 1 ] && exit 0

ARM_ARGS=()
for arm in paper $ARMS; do
  [ "$arm" = paper ] && [ ${#ARM_ARGS[@]} -gt 0 ] && continue
  ARM_ARGS+=(--arm "$arm=$STUDY_CFG")
done
summary() {  # OUT KEY...: seed_study tables of these keys over arms and seeds
  local out=$1; shift
  "$PY" tools/analysis/seed_study.py "$WORK" "${ARM_ARGS[@]}" --seeds $SEEDS \
    --keys "$@" --baseline paper --summarize-only --out "$WORK/$out"
}
ROUNDS=$(seq 0 $NUM_ROUNDS)
echo "## test NME (%) per round (EPOCHS=$EPOCHS)"
summary test_nme.md $(for t in $ROUNDS; do echo -n "round$t/NME "; done)
echo "## pseudo-label NME (%) per round (against the hidden labels)"
summary pseudo_nme.md $(for t in $ROUNDS; do echo -n "round$t/pseudo_NME "; done)
echo "## cost: hours of the stages each run trained itself (reused stages not counted)"
summary cost.md own_h reused_stages
echo "## per-round curves of every arm (mean +- std over the seeds) and per-seed tables"
RUNS=()
for arm in paper $ARMS; do
  [ "$arm" = paper ] && [ ${#RUNS[@]} -gt 0 ] && continue
  RUNS+=("$arm=$(for s in $SEEDS; do echo -n "$WORK/$arm/seed$s,"; done | sed 's/,$//')")
done
"$PY" tools/analysis/plot_stld.py --runs "${RUNS[@]}" --first-round 2 --per-run \
  --title "STLD switch study: ${EPOCHS}-epoch stages, seeds ${SEEDS// /, }" \
  --out "$WORK/switch_study.png" | tee "$WORK/rounds.md"
