#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Rebuild the bundled gait model: generate the realistic synthetic study (per-trial marker
# offsets, session gains, walking speed, one-sided signatures; seed 1, 12 subjects x 6 trials,
# runs 1-4 in ses-01 and 5-6 in ses-02), then train the subject-identification CNN with the
# xai-gait defaults (seed 0): the sessions cross-validated (each held out once, the fold models
# written next to OUT_MODEL as OUT.fold-K.onnx, each with the normalisation of its own training
# session), OUT_MODEL itself trained on both. The same tools give the same bytes.
# Usage: make_model.sh GEN_GAIT XAI_GAIT WORKDIR OUT_MODEL.onnx
set -eu
gen="$1"; gait="$2"; work="$3"; out="$4"
# From the work folder, the programs by name and the study by its folder name, so the sidecar and
# the card name the dataset and not this machine's build directory; the models are written there
# and copied next to OUT_MODEL.
PATH="$(cd "$(dirname "$gait")" && pwd):$(cd "$(dirname "$gen")" && pwd):$PATH"
name=$(basename "$out" .onnx); dest=$(cd "$(dirname "$out")" && pwd)
cd "$work"
rm -rf gait-study-model gait-model-out
"$(basename "$gen")" --nuisance realistic --seed 1 --subjects 12 --trials 6 --cycles 6 gait-study-model >/dev/null
mkdir gait-model-out
"$(basename "$gait")" train gait-study-model --target subject --seed 0 --nthreads 1 \
  --force -q --progress none -o "gait-model-out/$name.onnx"
cp gait-model-out/"$name".onnx gait-model-out/"$name".fold-*.onnx gait-model-out/"$name".json "$dest/"
