#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Rebuild the bundled gait model: generate the synthetic study (seed 1, 12 subjects x 5
# trials), then train the default subject-identification CNN with xai-gait (seed 0, last
# trial of each subject held out). The same tools give the same bytes.
# Usage: make_model.sh GEN_GAIT XAI_GAIT WORKDIR OUT_MODEL.onnx
set -eu
gen="$1"; gait="$2"; work="$3"; out="$4"
rm -rf "$work/gait-study-model"
"$gen" --seed 1 --subjects 12 --trials 5 --cycles 6 "$work/gait-study-model" >/dev/null
"$gait" train "$work/gait-study-model" --target subject --split trial --seed 0 --nthreads 1 \
  --force -q --progress none -o "$out"
