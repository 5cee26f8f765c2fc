#!/usr/bin/env bash
# CI-SSOD fair comparison and component ablation on the synthetic long-tail set, CPU scale
# (seed 004, Table 1 / ablations): every arm samples the labeled set the same way (RFS,
# t = 0.1, the seed's strong Soft Teacher baseline) and starts from one supervised burn-in;
# the arms differ only in the method switches:
#   soft-teacher   GbR, GbT and CrS off   (configs/ci_ssod/synthetic/soft-teacher_*)
#   gbr            GbR only               (GbT off, no CrS refresh)
#   gbt            GbT only               (loss_cls.reweight=False, no CrS refresh)
#   crs            CrS only               (reweight=False, GbT off, CrS refresh)
#   all            GbR + GbT + CrS        (configs/ci_ssod/synthetic/ci-ssod_soft-teacher_*)
# Seeds SEEDS (the training seed: data order, augmentations, sampling); the burn-in is seed 0.
# ITERS semi-supervised iterations per arm (the synthetic configs ship 800), GbR / GbT warm-up
# WARMUP (shipped: 200), lr step at 4/5 of ITERS, one validation at the end.
# Runs are independent jobs, LANES at a time; each is resumable (seed_study skips finished
# runs). Tables: tools/analysis/seed_study.py, paired differences to soft-teacher.
#   LANES=2 bash tools/analysis/ci_ssod_ablation_study.sh
# Cost measured here (LANES=1, ITERS=500, one thread, the other core busy): 2.5-5 min a run,
# about 80 min for 5 arms x 5 seeds.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
WORK=${WORK_DIR:-work_dirs/ci_ssod_ablation_study}
SEEDS=${SEEDS:-"1 2 3 4 5"}
LANES=${LANES:-2}
ITERS=${ITERS:-800}
WARMUP=${WARMUP:-$((ITERS / 4))}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
SYN=configs/ci_ssod/synthetic
mkdir -p "$WORK"
[ -f data/ci_ssod_synthetic/annotations/val.json ] || \
  "$PY" tools/misc/make_synthetic_detection.py --out data/ci_ssod_synthetic
BURNIN="$WORK/burnin"
[ -f "$BURNIN/iter_600.pth" ] || "$PY" tools/train.py $SYN/faster-rcnn_r18-tiny_synthetic-labeled.py \
  --work-dir "$BURNIN" --cfg-options randomness.seed=0
# the single-switch arms: the method config with the other switches off
HOOKS="custom_hooks = [dict(type='MeanTeacherHook', momentum=0.01),
                dict(type='CISSODStatisticsHook', interval=25,
                     minority_classes=_base_.minority_classes)]"
cat > "$WORK/gbr.py" <<PYCFG
_base_ = ['$ROOT/$SYN/ci-ssod_soft-teacher_r18-tiny_synthetic.py']
model = dict(semi_train_cfg=dict(gbt=dict(enable=False)))
$HOOKS
PYCFG
cat > "$WORK/gbt.py" <<PYCFG
_base_ = ['$ROOT/$SYN/ci-ssod_soft-teacher_r18-tiny_synthetic.py']
model = dict(detector=dict(roi_head=dict(bbox_head=dict(loss_cls=dict(reweight=False)))))
$HOOKS
PYCFG
cat > "$WORK/crs.py" <<PYCFG
_base_ = ['$ROOT/$SYN/ci-ssod_soft-teacher_r18-tiny_synthetic.py']
model = dict(detector=dict(roi_head=dict(bbox_head=dict(loss_cls=dict(reweight=False)))),
             semi_train_cfg=dict(gbt=dict(enable=False)))
PYCFG
CKPT="load_from=$ROOT/$BURNIN/iter_600.pth"
ARMS=("soft-teacher=$SYN/soft-teacher_r18-tiny_synthetic.py,$CKPT"
      "gbr=$WORK/gbr.py,$CKPT" "gbt=$WORK/gbt.py,$CKPT" "crs=$WORK/crs.py,$CKPT"
      "all=$SYN/ci-ssod_soft-teacher_r18-tiny_synthetic.py,$CKPT")
SCHED="train_cfg.max_iters=$ITERS train_cfg.val_interval=$ITERS param_scheduler.1.end=$ITERS"
SCHED="$SCHED param_scheduler.1.milestones=[$((ITERS * 4 / 5))] default_hooks.checkpoint.interval=$ITERS"
SCHED="$SCHED model.detector.roi_head.bbox_head.loss_cls.warmup_iters=$WARMUP"
SCHED="$SCHED model.semi_train_cfg.gbt.warmup_iters=$WARMUP"
KEYS="coco/bbox_mAP_all coco/bbox_mAP_maj coco/bbox_mAP_min coco/bbox_mAP"
job() {  # one (seed, arm) run
  "$PY" tools/analysis/seed_study.py "$WORK" --arm "$2" --seeds "$1" --keys $KEYS --options $SCHED \
    > "$WORK/job_${2%%=*}_seed$1.log" 2>&1
}
# seeds outermost, so that a stopped study has whole seeds
for seed in $SEEDS; do
  for arm in "${ARMS[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$LANES" ]; do wait -n || true; done
    job "$seed" "$arm" &
  done
done
wait
"$PY" tools/analysis/seed_study.py "$WORK" $(for arm in "${ARMS[@]}"; do echo "--arm $arm"; done) \
  --seeds $SEEDS --keys $KEYS --baseline soft-teacher --summarize-only \
  --out "$WORK/ablation_study.md"
