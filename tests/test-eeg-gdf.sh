#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# test-eeg-gdf.sh - xai-eeg (argument 1) reads GDF through BioSig exactly as it reads EDF:
# the shared EEGMMIDB recording S001R04 is converted to GDF with save2gdf (biosig-tools), a
# model is trained on the EDF, and explaining the EDF and the GDF must give byte-identical
# relevance arrays and the same events table (onsets, classes, predictions).
# Skips (77) without the shared data or save2gdf. Exit: 0 pass, 1 failure.
set -u
EXE=${1:?usage: test-eeg-gdf.sh XAI_EEG}
EDF="${XAI_SHARED_DIR:-}/data/eeg/eegmmidb_S001R04.edf"
[ -r "$EDF" ] || { echo "SKIP: $EDF not found (shared data absent)"; exit 77; }
command -v save2gdf >/dev/null 2>&1 || { echo "SKIP: save2gdf (Debian biosig-tools) not installed"; exit 77; }
W=$(mktemp -d /tmp/xai-eeg-gdf-XXXXXX)
trap 'rm -rf "$W"' EXIT
cp "$EDF" "$W/s4.edf"
(cd "$W" && save2gdf -f=GDF s4.edf s4.gdf >/dev/null 2>&1) || { echo "FAIL: save2gdf could not convert $EDF"; exit 1; }
"$EXE" train --edf "$W/s4.edf" --events T1=left,T2=right --epochs 2 --seed 0 --split-by epoch --no-refit \
  -o "$W/m.onnx" -q || { echo "FAIL: training on the EDF"; exit 1; }
for f in edf gdf; do
  "$EXE" explain --model "$W/m.onnx" --edf "$W/s4.$f" -o "$W/out-$f" -q --no-figures 2>/dev/null ||
    { echo "FAIL: explaining the $f file"; exit 1; }
done
R=s4_desc-lrp_relevance.npy
cmp "$W/out-edf/$R" "$W/out-gdf/$R" || { echo "FAIL: relevance from the GDF differs from the EDF's"; exit 1; }
E=s4_desc-lrp_events.tsv
cmp "$W/out-edf/$E" "$W/out-gdf/$E" || { echo "FAIL: events table from the GDF differs from the EDF's"; exit 1; }
echo "ok: GDF and EDF give identical relevance ($(wc -c <"$W/out-gdf/$R") bytes) and events"
