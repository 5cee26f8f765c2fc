#!/usr/bin/env bash
# Fused (LiftingCPM) vs plain CPM on the synthetic perspective bodies, CPU scale (seed 002's
# claim: fusing lifted 3D poses into the stages improves the 2D prediction).
#
# Both arms are the shipped configs (cpm-lift_* and cpm-plain_*, which differ only in
# model.backbone.fusion.enabled) at a smaller input (64x64 crops, 8x8 belief maps, batch 8):
#   1. data: perspective camera, elevation and roll, pose model fitted on a separate pose
#      stream that never shows the "reach" motion the images show;
#   2. one shared burn-in of the plain CPM (BURNIN_EPOCHS), so that the stage maps the fusion
#      lifts already point at the body;
#   3. each arm continues from that checkpoint for ARM_EPOCHS at a constant lr, seeds SEEDS
#      (the seed changes data order and augmentation draws only), two arms side by side;
#   4. tools/analysis/seed_study.py tables (mean +- std, paired fused - plain) and the
#      per-stage plot (tools/analysis/plot_lifting_stages.py).
#   LANES=2 bash tools/analysis/lifting_fusion_study.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
WORK=${WORK_DIR:-work_dirs/lifting_fusion_study}
DATA=${DATA:-data/lifting_study}
SEEDS=${SEEDS:-"0 1 2"}
BURNIN_EPOCHS=${BURNIN_EPOCHS:-3}
ARM_EPOCHS=${ARM_EPOCHS:-1}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
mkdir -p "$WORK"
[ -f "$DATA/pose_prior.npz" ] || "$PY" tools/misc/make_synthetic_lifting_data.py "$DATA" \
  --num-train 1000 --num-val 200 --num-prior-poses 20000 --held-out-activities reach

# the study size of both shipped configs (input, maps, batch, data, schedule)
for arm in lift plain; do
  cat > "$WORK/study_${arm}.py" <<EOF
_base_ = ['$ROOT/configs/lifting/cpm-${arm}_1xb16-60e_synthetic-h36m-128x128.py']
data_root = '$ROOT/$DATA/'
codec = dict(type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(8, 8), sigma=1)
model = dict(backbone=dict(lifter=dict(prior=data_root + 'pose_prior.npz')),
             head=dict(decoder=codec))
train_pipeline = _base_.train_pipeline
train_pipeline[4] = dict(type='TopdownAffine', input_size=codec['input_size'])
train_pipeline[5] = dict(type='GenerateTarget', encoder=codec)
val_pipeline = _base_.val_pipeline
val_pipeline[2] = dict(type='TopdownAffine', input_size=codec['input_size'])
train_dataloader = dict(batch_size=8, num_workers=1, persistent_workers=False,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(num_workers=1, persistent_workers=False,
                      dataset=dict(data_root=data_root, pipeline=val_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=$ARM_EPOCHS, val_interval=$ARM_EPOCHS)
param_scheduler = None  # constant lr after the burn-in
default_hooks = dict(checkpoint=dict(interval=$ARM_EPOCHS, save_best=None),
                     logger=dict(interval=25))
EOF
done
# burn-in: the plain CPM with the shipped warm-up, then constant lr
BURNIN="$WORK/burnin"
cat > "$WORK/study_burnin.py" <<EOF
_base_ = ['./study_plain.py']
train_cfg = dict(max_epochs=$BURNIN_EPOCHS, val_interval=$BURNIN_EPOCHS)
param_scheduler = [dict(type='LinearLR', begin=0, end=200, start_factor=0.001, by_epoch=False)]
default_hooks = dict(checkpoint=dict(interval=$BURNIN_EPOCHS))
randomness = dict(seed=0)
EOF
[ -f "$BURNIN/epoch_${BURNIN_EPOCHS}.pth" ] || OMP_NUM_THREADS=${BURNIN_THREADS:-2} \
  "$PY" tools/train.py "$WORK/study_burnin.py" --work-dir "$BURNIN"
CKPT="$ROOT/$BURNIN/epoch_${BURNIN_EPOCHS}.pth"
KEYS="PCK EPE MPJPE P-MPJPE $(for s in 1 2 3 4 5; do echo -n "MPJPE_s$s "; done)$(for s in 1 2 3 4 5 6; do echo -n "PCK_s$s EPE_s$s "; done)"
for arm in plain lift; do  # one lane per arm
  "$PY" tools/analysis/seed_study.py "$WORK" --arm "$arm=$WORK/study_${arm}.py" \
    --seeds $SEEDS --keys $KEYS --options "load_from=$CKPT" > "$WORK/lane_${arm}.log" 2>&1 &
  [ "${LANES:-2}" -ge 2 ] || wait
done
wait
"$PY" tools/analysis/seed_study.py "$WORK" --arm "plain=$WORK/study_plain.py" \
  --arm "lift=$WORK/study_lift.py" --seeds $SEEDS --keys $KEYS --baseline plain \
  --summarize-only --out "$WORK/fusion_study.md"
"$PY" tools/analysis/plot_lifting_stages.py "$WORK" --arms plain lift \
  --labels "plain CPM" "LiftingCPM (fused)" --seeds $SEEDS --out "$WORK/fusion_stages.png"
