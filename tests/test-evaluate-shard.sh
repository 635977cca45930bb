#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# xai-evaluate in parts: --shard K/N evaluates the methods of shard K into OUTDIR/methods/,
# --merge joins them. For N = 1, 2 and 3 (uneven: 4 methods), in the AOPC and the --metrics
# form (MPRT, SmoothGrad), every table and figure equals the one-machine run byte for byte and
# the sidecars differ only in CommandLine and DateTime. A method that failed is named by the
# merge (exit 1) and a rerun evaluates only it; a shard run again does nothing; a merge with
# other options than the shards' refuses; --merge with --shard is a usage error.
# Usage: test-evaluate-shard.sh XAI_EVALUATE MODEL.onnx   (needs /usr/bin/python3 with numpy)
set -u
EV="$1"
M="$2"
PY=/usr/bin/python3
T=$(mktemp -d /tmp/xai-evaluate-shard-XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/check-lib.sh"
if ! $PY -c 'import numpy' 2>/dev/null; then echo "SKIP: /usr/bin/python3 has no numpy"; exit 77; fi

# 7 gait-model inputs (30 channels x 101 % of the cycle) and a truth window
$PY - "$T" <<'PYEOF' || exit 1
import sys, numpy as np
r = np.random.default_rng(3)
np.save(sys.argv[1] + "/x.npy", r.normal(size=(7, 30, 101)).astype(np.float32))
g = np.zeros((7, 30, 101), np.float32)
g[:, 3:6, 20:40] = 1
np.save(sys.argv[1] + "/truth.npy", g)
PYEOF

# every output of run A equals run B: tables and figures byte for byte, sidecars but for
# the command line and date
same_outputs() {
  for f in "$1"/*; do
    b=$(basename "$f")
    case "$b" in
      *.json) grep -v '"CommandLine"\|"DateTime"' "$f" >"$T/nodate1"
              grep -v '"CommandLine"\|"DateTime"' "$2/$b" >"$T/nodate2"
              check cmp "$T/nodate1" "$T/nodate2" ;;
      *) check cmp "$f" "$2/$b" ;;
    esac
  done
}
AOPC="--patch 1x10 --steps 12 --per-step 3 --batch 4 --methods lrp:epsilon-plus-flat,gradient,smoothgrad,lrp:epsilon"
expect 0 "" "$EV" "$M" "$T/x.npy" -o "$T/a1" $AOPC -q
for n in 1 2 3; do
  for k in $(seq 1 $n); do
    expect 0 "" "$EV" "$M" "$T/x.npy" -o "$T/a$n-parts" $AOPC -q --shard "$k/$n"
  done
  check [ ! -e "$T/a$n-parts/aopc.tsv" ] # shards write only their methods
  expect 0 "" "$EV" "$M" "$T/x.npy" -o "$T/a$n-parts" $AOPC -q --merge
  same_outputs "$T/a1" "$T/a$n-parts"
done
# a shard run again finds its methods done
expect 0 "0 methods evaluated, 0 failed, 2 already done" "$EV" "$M" "$T/x.npy" -o "$T/a3-parts" $AOPC -v \
  --progress none --shard 1/3

MET="--metrics all --truth $T/truth.npy --patch 1x10 --steps 8 --per-step 3 --fc-runs 6 --infid-runs 6 \
  --sens-runs 2 --road-axes 2 --methods lrp:epsilon-plus-flat,gradient,smoothgrad"
expect 0 "" "$EV" "$M" "$T/x.npy" -o "$T/m1" $MET -q
# shard 1 of 2 holds gradient and smoothgrad (the 1st and 3rd label in byte order);
# gradient fails: its folder is a file
mkdir -p "$T/m2/methods" && : >"$T/m2/methods/gradient"
expect 3 "methods/gradient" "$EV" "$M" "$T/x.npy" -o "$T/m2" $MET -q --shard 1/2
expect 0 "" "$EV" "$M" "$T/x.npy" -o "$T/m2" $MET -q --shard 2/2
expect 1 "method gradient is not done" "$EV" "$M" "$T/x.npy" -o "$T/m2" $MET -q --merge
check [ ! -e "$T/m2/metrics.tsv" ]
rm "$T/m2/methods/gradient"
expect 0 "1 methods evaluated, 0 failed, 1 already done" "$EV" "$M" "$T/x.npy" -o "$T/m2" $MET -v \
  --progress none --shard 1/2
expect 0 "" "$EV" "$M" "$T/x.npy" -o "$T/m2" $MET -q --merge
same_outputs "$T/m1" "$T/m2"
check [ -s "$T/m2/mprt.png" ]
# killed mid-way (kill -9, whenever it lands): the rerun finishes the shard, sweeps the
# temporary files of the dead run, and the merge still equals one run
"$EV" "$M" "$T/x.npy" -o "$T/k" $AOPC -q --shard 1/1 &
pid=$!
sleep 1
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
expect 0 "" "$EV" "$M" "$T/x.npy" -o "$T/k" $AOPC -q --shard 1/1
expect 0 "" "$EV" "$M" "$T/x.npy" -o "$T/k" $AOPC -q --merge
same_outputs "$T/a1" "$T/k"
check [ -z "$(find "$T/k" -name '*.tmp-xai.*')" ]

# --slurm --dry-run: the array of the shards with methods to do, then the merge step
"$EV" "$M" "$T/x.npy" -o "$T/s" $MET -q --shard 1/2 --slurm --dry-run >"$T/dry" 2>"$T/err"
check [ $? -eq 0 ]
check grep -q -- '--array=0,1$' "$T/dry"
check grep -q -- "--shard \"\$((SLURM_ARRAY_TASK_ID + 1))/2\"" "$T/dry"
check grep -q -- "' --merge$" "$T/dry"
check grep -q -- '--dependency=afterok' "$T/dry"
check [ ! -e "$T/s/metrics.tsv" ]
expect 0 "nothing to submit" "$EV" "$M" "$T/x.npy" -o "$T/m2" $MET -q --shard 1/2 --slurm --dry-run
expect 2 "--slurm" "$EV" "$M" "$T/x.npy" -o "$T/m2" $MET -q --merge --slurm
# the merge refuses results of other options, and an existing output without --force
expect 1 "not done with these inputs and options" "$EV" "$M" "$T/x.npy" -o "$T/m2" $MET --seed 5 -q --merge -f
expect 2 "exists" "$EV" "$M" "$T/x.npy" -o "$T/m2" $MET -q --merge
expect 2 "--merge" "$EV" "$M" "$T/x.npy" -o "$T/m2" $MET -q --merge --shard 1/2
expect 2 "--shard" "$EV" "$M" "$T/x.npy" -o "$T/m2" $MET -q --shard 3/2
# option numbers are decimal, whole and within range (a float's range for the float ones)
for bad in "--shard 1/2x" "--shard 1/+2" "--baseline nan" "--baseline 1e39" "--baseline 0x1" "--road-noise -1" \
    "--fc-fraction 1.5" "--infid-sigma 0" "--sens-radius inf" "--seed -1" "--steps 1e3" "--batch 65" \
    "--per-step 99999999999999999999"; do
  set -- $bad
  expect 2 "$1" "$EV" "$M" "$T/x.npy" -o "$T/m3" $MET -q "$1" "$2"
done
check [ ! -e "$T/m3" ]
finish test-evaluate-shard
