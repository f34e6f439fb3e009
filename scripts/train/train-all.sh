#!/usr/bin/env bash
# Reproduces models/ end to end: training cache (teacher embeddings), LipSim distillation, LipSim hinge
# fine-tune, the non-robust baseline, then export + model cards. Each step resumes from its checkpoint.
# Environment: LIPSEARCH_DATA (default ../shared/data), LIPSEARCH_TEACHER (default ../shared/teacher).
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${LIPSEARCH_DATA:-../shared/data}
TEACHER=${LIPSEARCH_TEACHER:-../shared/teacher}
CACHE=${TRAIN_CACHE:-cache/train}
CKPT=${TRAIN_CHECKPOINTS:-.checkpoints}
PY=${PYTHON:-/usr/bin/python3}
export OPENBLAS_NUM_THREADS=1
DISTILL_STEPS=${DISTILL_STEPS:-1200}
HINGE_STEPS=${HINGE_STEPS:-300}
RELATIONAL_STEPS=${RELATIONAL_STEPS:-2400}
FINAL_STEPS=${FINAL_STEPS:-1000}
BASELINE_STEPS=${BASELINE_STEPS:-500}

[ -f "$CACHE/meta.json" ] || npx tsx scripts/train/prepare-data.ts --data "$DATA" --teacher "$TEACHER/mobilenet_v2.onnx" --out "$CACHE"
$PY scripts/train/train.py --cache "$CACHE" --out "$CKPT" --name lipsim-distill --steps "$DISTILL_STEPS"
$PY scripts/train/train.py --cache "$CACHE" --out "$CKPT" --name lipsim-hinge --stage hinge \
  --init "$CKPT/lipsim-distill.pt" --steps "$HINGE_STEPS" --lr 5e-4
$PY scripts/train/train.py --cache "$CACHE" --out "$CKPT" --name lipsim-rel --stage hinge --relational-weight 1 \
  --init "$CKPT/lipsim-hinge.pt" --steps "$RELATIONAL_STEPS" --lr 1e-3
# Stage 4: the same recipe again, a fresh learning-rate cycle.
$PY scripts/train/train.py --cache "$CACHE" --out "$CKPT" --name lipsim --stage hinge --relational-weight 1 \
  --init "$CKPT/lipsim-rel.pt" --steps "$FINAL_STEPS" --lr 1e-3
$PY scripts/train/train.py --cache "$CACHE" --out "$CKPT" --name baseline --baseline --steps "$BASELINE_STEPS"
npx tsx scripts/train/golden-inputs.ts --data "$DATA" --out "$CACHE/golden"
$PY scripts/train/export.py --checkpoints "$CKPT" --golden "$CACHE/golden" --models models
npx tsx scripts/train/evaluate-models.ts --data "$DATA" --teacher "$TEACHER" --models models
