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
rm -rf "$work/gait-study-model"
"$gen" --nuisance realistic --seed 1 --subjects 12 --trials 6 --cycles 6 "$work/gait-study-model" >/dev/null
"$gait" train "$work/gait-study-model" --target subject --seed 0 --nthreads 1 \
  --force -q --progress none -o "$out"
