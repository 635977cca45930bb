#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Reproduce the bundled fMRI model (datasets/fmri/model-dense.onnx) with the suite's own tools:
# generate the planted-ROI BIDS tree (seed 1, one subject, three runs, 24x28x20 voxels,
# 80 volumes, TR 2 s), train the default model (a weight-decayed linear read-out of the
# masked, detrended, z-scored volume) on runs 1 and 2 with leave-one-run-out validation (--cv:
# the card records each held-out run's accuracy and the fold models sit beside the model), and
# check it on run 3.
# sub-01 of `meson compile -C build datasets-fmri` (seed 1, 3 runs) is the same data.
# Usage: make_model.sh GEN_FMRI XAI_FMRI WORKDIR MODEL_OUT   (meson compile -C build datasets-fmri-model)
set -eu
GEN="$1"; APP="$2"; WORK="$3"; OUT="$4"
# Run from WORK, the programs by name and the data by their paths inside it, so the sidecar's
# command line names the dataset, not this machine's build directory; the model is written
# there and copied next to OUT.
APPDIR=$(cd "$(dirname "$APP")" && pwd); GENDIR=$(cd "$(dirname "$GEN")" && pwd)
PATH="$APPDIR:$GENDIR:$PATH"
NAME=$(basename "$OUT" .onnx); DEST=$(cd "$(dirname "$OUT")" && pwd)
cd "$WORK"
D="fmri-model-bids/sub-01/func"
rm -rf fmri-model-bids fmri-model-check fmri-model-out
"$(basename "$GEN")" --seed 1 --subjects 1 --runs 3 fmri-model-bids
mkdir fmri-model-out
"$(basename "$APP")" train --cv --seed 1 --force -q \
  --bold "$D/sub-01_task-blocks_run-1_bold.nii.gz" --events "$D/sub-01_task-blocks_run-1_events.tsv" \
  --bold "$D/sub-01_task-blocks_run-2_bold.nii.gz" --events "$D/sub-01_task-blocks_run-2_events.tsv" \
  -o "fmri-model-out/$NAME.onnx"
cp fmri-model-out/"$NAME".onnx fmri-model-out/"$NAME".fold-*.onnx fmri-model-out/"$NAME".json "$DEST/"
"$(basename "$APP")" explain --model "$DEST/$NAME.onnx" --bold "$D/sub-01_task-blocks_run-3_bold.nii.gz" \
  --events "$D/sub-01_task-blocks_run-3_events.tsv" -o fmri-model-check --force
