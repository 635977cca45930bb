#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# bench-speech.sh - xai-speech explain throughput (clips/s) and peak RSS on 1 s clips with the
# bundled model (goal: >= 200 clips/s on 2 cores). Prints numbers; never pass/fail.
# Usage: tests/bench/bench-speech.sh BUILD_DIR [COPIES]
#   BUILD_DIR  a configured build with apps/xai-speech and datasets/gen_speech built
#              (use a release build: meson setup build-rel --buildtype=release)
#   COPIES     how many times the 240 synthetic 1 s clips are passed [4] (960 clips)
# Three runs: --stacked --no-figures (the batch mode: one relevance.npy + one sidecar),
# per-clip files without figures (one .npy + fsync'ed JSON sidecar per clip: disk-bound),
# and per-clip files with PNG figures.
set -eu
B=$1
K=${2:-4}
S=$(cd "$(dirname "$0")/../.." && pwd)
APP="$B/apps/xai-speech"
MODEL="$S/datasets/speech/model-digits.onnx"
T=$(mktemp -d /tmp/bench-speech-XXXXXX)
trap 'rm -rf "$T"' EXIT
"$B/datasets/gen_speech" --voices m1,m2,m3,m4,f1,f2,f3,f4 --speeds 130,160,190 --pitches 50 \
  --length 1 --seed 9 "$T/clips" >/dev/null
n1=$(ls "$T/clips"/*.wav | wc -l)
dirs=""
i=0
while [ $i -lt "$K" ]; do dirs="$dirs $T/clips"; i=$((i + 1)); done
run() { # run LABEL NCLIPS ARGS...
  label=$1 n=$2; shift 2
  rm -rf "$T/out"
  /usr/bin/time -f "%e %M" -o "$T/time" "$APP" explain --model "$MODEL" -o "$T/out" -q --nthreads 2 "$@"
  read -r secs rss <"$T/time"
  echo "$label: $n clips in ${secs} s = $(echo "$n / $secs" | bc -l | xargs printf '%.0f') clips/s, peak RSS $((rss / 1024)) MiB"
}
echo "model: $MODEL ($(nproc) cores)"
# shellcheck disable=SC2086
run "explain --stacked --no-figures" $((n1 * K)) --stacked --no-figures $dirs
run "explain per-clip files, --no-figures" "$n1" --no-figures "$T/clips"
run "explain per-clip files with PNG figures" "$n1" "$T/clips"
