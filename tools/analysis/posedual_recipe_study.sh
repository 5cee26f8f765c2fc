#!/usr/bin/env bash
# PoseDual synthetic study over seeds (seed 000 at CPU scale): supervised vs PoseCons-same vs
# PoseDual, and PoseDual started as Algorithm 1 starts it, from two separately trained
# networks. Synthetic bodies, first 100 instances labeled (5 %), every box unlabeled; the
# release-style labeled pipeline of the synthetic configs (clipped-normal scale/rotation, no
# half-body); 16 labeled (+ 16 unlabeled) crops per iteration in every arm; ITERS optimizer
# steps per network in every arm:
#   supervised       ITERS steps on labels                         (seed S)
#   supervised-mmpose the same with the quickstart's mmpose augmentation (RandomHalfBody +
#                    RandomBBoxTransform) instead of the release's labeled pipeline
#   posecons-same    PRE steps on labels, then consistency          (one network)
#   posedual         both networks from random weights in one run: PRE steps on labels,
#                    then mutual teaching (the shipped synthetic config)
#   posedual-2init   net1 = the supervised run of seed S at PRE steps, net2 = a supervised
#                    run of seed S+100 at PRE steps (separate pre-training), then ITERS-PRE
#                    steps of mutual teaching from the first step
# Tables: tools/analysis/seed_study.py (mean +- std, paired differences to supervised).
#   LANES=2 bash tools/analysis/posedual_recipe_study.sh
# Cost measured here (LANES=1, ITERS=600, one thread, the other core busy): about 30 min a
# seed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
WORK=${WORK_DIR:-work_dirs/posedual_recipe_study}
SEEDS=${SEEDS:-"0 1 2"}
ITERS=${ITERS:-600}
PRE=${PRE:-200}
LANES=${LANES:-2}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
SYN=configs/posedual/synthetic
"$PY" tools/misc/make_synthetic_data.py --root data/synthetic
SPLIT=data/synthetic/body/semi_anns/person_keypoints_train.labeled@first100.json
[ -f "$SPLIT" ] || "$PY" tools/misc/split_coco_keypoints.py \
  data/synthetic/body/annotations/person_keypoints_train.json --first-n 100 \
  --out-dir data/synthetic/body/semi_anns
mkdir -p "$WORK"
MILESTONE=$((ITERS * 4 / 5))
SCHED="train_cfg.max_iters=$ITERS train_cfg.val_interval=$ITERS param_scheduler.1.end=$ITERS"
SCHED="$SCHED param_scheduler.1.milestones=[$MILESTONE]"
SUP="supervised=$SYN/supervised_res18-w32_synthetic-body-first100-128x96.py"
KEYS="coco/AP PCK"
study() { "$PY" tools/analysis/seed_study.py "$WORK" --keys $KEYS "$@"; }
pre_net2() {  # the second network's separate pre-training: PRE steps, seed S+100
  local seed=$1 dir="$WORK/net2/seed$1"
  [ -f "$dir/iter_$PRE.pth" ] || "$PY" tools/train.py "${SUP#*=}" --work-dir "$dir" \
    --cfg-options $SCHED train_cfg.max_iters=$PRE train_cfg.val_interval=$PRE \
    default_hooks.checkpoint.interval=$PRE randomness.seed=$((seed + 100)) > "$dir.log" 2>&1
}
lane_a() {  # supervised (its PRE checkpoint is net1), net2, then PoseDual from both
  local seed=$1
  mkdir -p "$WORK/net2"
  study --arm "$SUP,default_hooks.checkpoint.interval=$PRE,default_hooks.checkpoint.max_keep_ckpts=-1" \
    --seeds "$seed" --options $SCHED > "$WORK/job_supervised_seed$seed.log" 2>&1
  pre_net2 "$seed"
  local pair="$WORK/pairs/seed$seed.pth"
  mkdir -p "$WORK/pairs"
  [ -f "$pair" ] || "$PY" tools/misc/pose_dual_init.py "$WORK/supervised/seed$seed/iter_$PRE.pth" \
    "$WORK/net2/seed$seed/iter_$PRE.pth" --out "$pair"
  local rest=$((ITERS - PRE))
  study --arm "posedual-2init=$SYN/posedual_res18-w32_synthetic-body-first100-128x96.py,load_from=$ROOT/$pair,model.unsup_start_iter=0" \
    --seeds "$seed" --options train_cfg.max_iters=$rest train_cfg.val_interval=$rest \
    param_scheduler.1.end=$rest "param_scheduler.1.milestones=[$((MILESTONE - PRE))]" \
    > "$WORK/job_posedual-2init_seed$seed.log" 2>&1
}
cat > "$WORK/supervised_mmpose_pipeline.py" <<PYCFG
_base_ = ['$ROOT/${SUP#*=}']
codec = _base_.codec
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImage'), dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'), dict(type='RandomHalfBody'),
    dict(type='RandomBBoxTransform'), dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec), dict(type='PackPoseInputs')]))
PYCFG
SUP_MMPOSE="supervised-mmpose=$WORK/supervised_mmpose_pipeline.py"
lane_b() {  # the one-run semi-supervised arms and the old supervised pipeline
  local seed=$1
  study --arm "$SUP_MMPOSE" --seeds "$seed" --options $SCHED \
    > "$WORK/job_supervised-mmpose_seed$seed.log" 2>&1
  for regime in posedual posecons-same; do
    study --arm "$regime=$SYN/${regime}_res18-w32_synthetic-body-first100-128x96.py,model.unsup_start_iter=$PRE" \
      --seeds "$seed" --options $SCHED > "$WORK/job_${regime}_seed$seed.log" 2>&1
  done
}
for seed in $SEEDS; do
  if [ "$LANES" -ge 2 ]; then lane_a "$seed" & lane_b "$seed"; wait; else lane_a "$seed"; lane_b "$seed"; fi
done
"$PY" tools/analysis/seed_study.py "$WORK" --arm "$SUP" \
  --arm "$SUP_MMPOSE" --arm "posecons-same=$SYN/posecons-same_res18-w32_synthetic-body-first100-128x96.py" \
  --arm "posedual=$SYN/posedual_res18-w32_synthetic-body-first100-128x96.py" \
  --arm "posedual-2init=$SYN/posedual_res18-w32_synthetic-body-first100-128x96.py" \
  --seeds $SEEDS --keys $KEYS --baseline supervised --summarize-only --out "$WORK/recipe_study.md"
FIRST=${SEEDS%% *}  # response curves of the first seed's semi-supervised arms
"$PY" tools/analysis/plot_response.py "$WORK/posecons-same/seed$FIRST" "$WORK/posedual/seed$FIRST" \
  "$WORK/posedual-2init/seed$FIRST" --labels PoseCons-same PoseDual "PoseDual (2 inits)" \
  --out "$WORK/response_recipe.png"
