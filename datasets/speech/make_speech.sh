#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Synthetic speech data and the bundled xai-speech models (run by meson: see datasets/meson.build).
# Usage: make_speech.sh data|model GEN_SPEECH XAI_SPEECH BUILD_DATASETS_DIR SOURCE_SPEECH_DIR
set -eu
what=$1 gen=$2 app=$3 out=$4 src=$5
mkdir -p "$out"
# an existing set is reused (delete the folder to regenerate)
if [ ! -f "$out/speech-synth/labels.csv" ]; then
  "$gen" --seed 1 "$out/speech-synth"
fi
if [ "$what" = data ] && [ ! -f "$out/speech-planted/labels.csv" ]; then
  "$gen" --seed 2 --planted-class 7 --planted-hz 1500 "$out/speech-planted"
fi
# The committed models: the program's defaults (speakers held out by the driver, Adam 3e-3, up
# to 60 epochs with early stopping on an inner split of the training speakers), seed 0, but
# --no-refit: they were made before the refit on every speaker became the default, and this
# script makes the same files (a refit would add model-*.fold-1.onnx and change both); a
# speaker is a voice (labels.csv 'voice'), so that its speeds and pitches never sit on both sides.
# They are trained from the build's datasets folder, the program called by name, so the sidecar
# and the card name the data set (speech-synth) and not this machine's build directory, then
# copied into the source folder.
if [ "$what" = model ]; then
  PATH="$(cd "$(dirname "$app")" && pwd):$PATH"
  src=$(cd "$src" && pwd)
  cd "$out"
  mkdir -p speech-model-out
  for labels in digit gender; do
    name=digits
    [ "$labels" = gender ] && name=gender
    "$(basename "$app")" train speech-synth --labels $labels --speaker-column voice --seed 0 --no-refit --force --progress lines \
      -o "speech-model-out/model-$name.onnx"
    cp "speech-model-out/model-$name.onnx" "speech-model-out/model-$name.json" "$src/"
  done
fi
