#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# bench-gait.sh BUILD_DIR [SUBJECTS] [CYCLES] - throughput of `xai-gait study` (explained cycles/s,
# as printed by the program: read + normalise + explain + all outputs, per subject) and peak RSS
# (GNU time). Not a test; run by hand in a release build:
#   meson setup /tmp/build-rel --buildtype=release && ninja -C /tmp/build-rel
#   sh tests/bench/bench-gait.sh /tmp/build-rel 12 40
set -eu
B=$1
NS=${2:-12}
NC=${3:-40}
T=$(mktemp -d "${TMPDIR:-/tmp}/bench-gait.XXXXXX")
trap 'rm -rf "$T"' EXIT
"$B/datasets/gen_gait" --subjects "$NS" --trials 5 --cycles "$NC" "$T/study"
"$B/apps/xai-gait" train "$T/study" --epochs 5 -o "$T/m.onnx" -q
for fig in "" "--no-figures"; do
    echo "== study $fig ($NS subjects x 5 trials x 2 sides x $NC cycles)"
    rm -rf "$T/out"
    /usr/bin/time -f "wall %e s, peak RSS %M KB" "$B/apps/xai-gait" study "$T/study" "$T/out" --model "$T/m.onnx" \
        --nthreads 2 --progress none $fig 2>&1 | grep -E "cycles/s|peak RSS"
done
