#!/usr/bin/env bash
# Reproduces models/ end to end: training cache (teacher embeddings of 6 views of every photo), LipSim in fifteen
# stages, the non-robust baseline, then export + model cards + held-out figures. Each step resumes from its
# checkpoint.
# `npm run train -- --device cuda` is the GPU burst instead: it continues the shipped LipSim (rebuilt from
# models/lipsim.onnx and its card) for GPU_MINUTES with consistent teaching on a packed photo set, and exports it.
# Everything it reads travels with the working tree: models/, and the pack (cache/gpu-pack: photos, teacher,
# target PCA, golden inputs), which `npm run train -- --pack-only` writes here from ../shared.
# Environment: LIPSEARCH_DATA (default ../shared/data), LIPSEARCH_TEACHER (default ../shared/teacher).
set -euo pipefail
cd "$(dirname "$0")/../.."
DEVICE=cpu
while [ $# -gt 0 ]; do
  case "$1" in
    --device) DEVICE="$2"; shift 2 ;;
    --pack-only) DEVICE=pack; shift ;;
    *) echo "usage: npm run train [-- --device cpu|cuda | --pack-only]" >&2; exit 2 ;;
  esac
done
DATA=${LIPSEARCH_DATA:-../shared/data}
TEACHER=${LIPSEARCH_TEACHER:-../shared/teacher}
CACHE=${TRAIN_CACHE:-cache/train}
CKPT=${TRAIN_CHECKPOINTS:-.checkpoints}
PY=${PYTHON:-/usr/bin/python3}
export OPENBLAS_NUM_THREADS=1
DISTILL_STEPS=${DISTILL_STEPS:-1200}
HINGE_STEPS=${HINGE_STEPS:-300}
RELATIONAL_STEPS=${RELATIONAL_STEPS:-2400}
REL2_STEPS=${REL2_STEPS:-1000}
THUMBNAIL_STEPS=${THUMBNAIL_STEPS:-1100}
STAGE6_STEPS=${STAGE6_STEPS:-1150}
STAGE7_STEPS=${STAGE7_STEPS:-450}
STAGE8_STEPS=${STAGE8_STEPS:-900}
STAGE9_STEPS=${STAGE9_STEPS:-900}
STAGE10_STEPS=${STAGE10_STEPS:-900}
STAGE11_STEPS=${STAGE11_STEPS:-900}
STAGE12_STEPS=${STAGE12_STEPS:-900}
STAGE13_STEPS=${STAGE13_STEPS:-900}
STAGE14_STEPS=${STAGE14_STEPS:-900}
STAGE15_STEPS=${STAGE15_STEPS:-900}
BASELINE_STEPS=${BASELINE_STEPS:-500}
GPU_MINUTES=${GPU_MINUTES:-6}
train() { $PY scripts/train/train.py --cache "$CACHE" --out "$CKPT" "$@"; }
# Checkpoint names of the LipSim stages in order; the last one is exported.
STAGES=lipsim-distill,lipsim-hinge,lipsim-rel,lipsim-rel2,lipsim,lipsim-stage6,lipsim-stage7,lipsim-stage8,lipsim-stage9,lipsim-stage10,lipsim-stage11,lipsim-stage12,lipsim-stage13,lipsim-stage14,lipsim-stage15

PACK=${GPU_PACK:-cache/gpu-pack}
if [ "$DEVICE" != cpu ]; then
  if [ ! -f "$PACK/index.json" ]; then
    npx tsx scripts/train/pack-photos.ts --data "$DATA" --teacher "$TEACHER/mobilenet_v2.onnx" --out "$PACK"
    npx tsx scripts/train/golden-inputs.ts --data "$DATA" --out "$PACK/golden"
    # The shipped model's target space, so that the burst continues it rather than starting over.
    [ ! -f "$CKPT/targets.npz" ] || cp "$CKPT/targets.npz" "$PACK/targets.npz"
  fi
  [ "$DEVICE" != pack ] || exit 0
  BURST=${GPU_CHECKPOINTS:-.checkpoints-gpu}
  mkdir -p "$BURST"
  $PY scripts/train/warm_start.py models/lipsim.onnx "$BURST/start.pt"
  $PY scripts/train/gpu_burst.py --pack "$PACK" --init "$BURST/start.pt" --out "$BURST" --name lipsim-gpu \
    --device "$DEVICE" --minutes "$GPU_MINUTES"
  # Earlier stages keep their records from the current card; the burst is the new last stage.
  $PY scripts/train/export.py --checkpoints "$BURST" --golden "$PACK/golden" --models "${GPU_MODELS:-models}" \
    --lipsim-stages "$STAGES,lipsim-gpu"
  exit 0
fi

[ -f "$CACHE/meta.json" ] || npx tsx scripts/train/prepare-data.ts --data "$DATA" --teacher "$TEACHER/mobilenet_v2.onnx" --out "$CACHE"
[ -f "$CACHE/golden/files.json" ] || npx tsx scripts/train/golden-inputs.ts --data "$DATA" --out "$CACHE/golden"
train --name lipsim-distill --steps "$DISTILL_STEPS"
train --name lipsim-hinge --stage hinge --init "$CKPT/lipsim-distill.pt" --steps "$HINGE_STEPS" --lr 5e-4
train --name lipsim-rel --stage hinge --relational-weight 1 --init "$CKPT/lipsim-hinge.pt" --steps "$RELATIONAL_STEPS" --lr 1e-3
train --name lipsim-rel2 --stage hinge --relational-weight 1 --init "$CKPT/lipsim-rel.pt" --steps "$REL2_STEPS" --lr 1e-3
# Stage 5: the thumbnail (layout) branch beside the pooled trunk, 9396 photos in 6 views, a fresh learning-rate cycle.
train --name lipsim --stage hinge --relational-weight 1 --thumbnail --init "$CKPT/lipsim-rel2.pt" --steps "$THUMBNAIL_STEPS" --lr 1e-3
# Stage 6: the same loss continued at half the learning rate.
train --name lipsim-stage6 --stage hinge --relational-weight 1 --init "$CKPT/lipsim.pt" --steps "$STAGE6_STEPS" --lr 5e-4
# Stage 7: the head pools the trunk's last map over a 3x3 split (where features are, not only which), widened
# from stage 6 so that it starts from the same embedding.
train --name lipsim-stage7 --stage hinge --relational-weight 1 --pool-grid 3 --init "$CKPT/lipsim-stage6.pt" --steps "$STAGE7_STEPS" --lr 7e-4
# Stage 8: the stage-7 loss continued, a fresh learning-rate cycle.
train --name lipsim-stage8 --stage hinge --relational-weight 1 --init "$CKPT/lipsim-stage7.pt" --steps "$STAGE8_STEPS" --lr 5e-4
# Stages 9 to 11: the same again at 4e-4.
train --name lipsim-stage9 --stage hinge --relational-weight 1 --init "$CKPT/lipsim-stage8.pt" --steps "$STAGE9_STEPS" --lr 4e-4
train --name lipsim-stage10 --stage hinge --relational-weight 1 --init "$CKPT/lipsim-stage9.pt" --steps "$STAGE10_STEPS" --lr 4e-4
train --name lipsim-stage11 --stage hinge --relational-weight 1 --init "$CKPT/lipsim-stage10.pt" --steps "$STAGE11_STEPS" --lr 4e-4
# Stages 12 and 13: batches of groups of 4 photos the teacher finds alike (an anchor and 3 of its 10 nearest).
train --name lipsim-stage12 --stage hinge --relational-weight 1 --neighbour-group 4 --init "$CKPT/lipsim-stage11.pt" --steps "$STAGE12_STEPS" --lr 4e-4
train --name lipsim-stage13 --stage hinge --relational-weight 1 --neighbour-group 4 --init "$CKPT/lipsim-stage12.pt" --steps "$STAGE13_STEPS" --lr 4e-4
# Stages 14 and 15: groups of 8 (an anchor and 7 of its 10 nearest).
train --name lipsim-stage14 --stage hinge --relational-weight 1 --neighbour-group 8 --init "$CKPT/lipsim-stage13.pt" --steps "$STAGE14_STEPS" --lr 4e-4
train --name lipsim-stage15 --stage hinge --relational-weight 1 --neighbour-group 8 --init "$CKPT/lipsim-stage14.pt" --steps "$STAGE15_STEPS" --lr 4e-4
train --name baseline --baseline --steps "$BASELINE_STEPS"
$PY scripts/train/export.py --checkpoints "$CKPT" --golden "$CACHE/golden" --models models --lipsim-stages "$STAGES"
npx tsx scripts/train/evaluate-models.ts --data "$DATA" --teacher "$TEACHER" --models models
