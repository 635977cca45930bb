#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The batch form of xai-explain: --shard K/N outputs are byte-identical to a one-shard run
# for N = 1, 2, 3 (uneven shards), items of one subject share a shard, each shard writes only
# its own outputs, a failing input is named and exits 3, a rerun redoes only the failed or
# changed inputs, inputs of changing shapes in one batch each give their single-input result,
# and --slurm --dry-run writes the array script without Slurm.
# Usage: test-explain-batch.sh BUILD_ROOT SOURCE_ROOT   (needs /usr/bin/python3 with numpy)
set -u
E="$1/apps/xai-explain"
S="$2"
PY=/usr/bin/python3
T=$(mktemp -d /tmp/xai-batch-XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { if "$@"; then ok; else bad "$*"; fi; }
if ! $PY -c 'import numpy' 2>/dev/null; then echo "SKIP: numpy missing"; exit 77; fi
M="$S/datasets/example/model.onnx"

# 7 inputs, 6 subjects (sub-02 has two runs), one of them without a BIDS name
mkdir -p "$T/in"
$PY - "$S/datasets/example/input.npy" "$T/in" <<'PYEOF' || exit 1
import sys, numpy as np
x = np.load(sys.argv[1]).astype(np.float32)
names = ["sub-01_run-1_x", "sub-02_run-1_x", "sub-02_run-2_x", "sub-03_run-1_x",
         "sub-04_run-1_x", "sub-05_run-1_x", "plain"]
for i, n in enumerate(names):
    np.save(f"{sys.argv[2]}/{n}.npy", np.roll(x, i, axis=-1))
PYEOF
ls "$T"/in/*.npy >"$T/list"
run() { "$E" "$M" --list "$T/list" -q "$@"; }

# reference: one machine, one shard
run -o "$T/ref/"; check [ $? -eq 0 ]
check [ "$(ls "$T/ref"/*.npy | wc -l)" -eq 7 ]
check [ "$(cat "$T/ref/.xai-status/"*.status | grep -c '^done ')" -eq 7 ]
# the batch output equals the single-input form
"$E" "$M" "$T/in/plain.npy" -o "$T/single.npy" -q
check cmp -s "$T/single.npy" "$T/ref/plain.npy"

for N in 1 2 3; do
  D="$T/n$N"
  K=1
  while [ $K -le $N ]; do
    before=$(ls "$D"/*.npy 2>/dev/null | wc -l)
    run -o "$D/" --shard $K/$N; check [ $? -eq 0 ]
    after=$(ls "$D"/*.npy | wc -l)
    check [ "$after" -gt "$before" ]
    # sub-02's two runs land in one shard
    [ -f "$D/sub-02_run-1_x.npy" ] && [ ! -f "$D/sub-02_run-2_x.npy" ] && bad "sub-02 split (N=$N, K=$K)"
    K=$((K + 1))
  done
  for f in "$T"/ref/*.npy "$T"/ref/.xai-status/*; do
    check cmp -s "$f" "$D/${f#$T/ref/}"
  done
  check [ "$(ls "$D"/*.npy | wc -l)" -eq 7 ]
done
# N=3 is uneven: subjects 01 02 03 04 05 plain in byte order give shard 1 = {01, 04},
# shard 2 = {02 (two runs), 05}, shard 3 = {03, plain}; a shard writes only its own
run -o "$T/one/" --shard 2/3
check [ "$(ls "$T/one"/*.npy | wc -l)" -eq 3 ]
check [ -f "$T/one/sub-02_run-2_x.npy" ] && check [ -f "$T/one/sub-05_run-1_x.npy" ]

# a failing input: named on stderr, exit 3, status "failed 1", the others done
F="$T/fail"
cp -r "$T/in" "$F.in"
printf 'not an npy file' >"$F.in/sub-04_run-1_x.npy"
ls "$F.in"/*.npy >"$F.list"
"$E" "$M" --list "$F.list" -o "$F/" --shard 1/3 -q 2>"$T/err"; rc=$?
check [ $rc -eq 3 ]
check grep -q "sub-04_run-1_x.npy" "$T/err"
check grep -q '^failed 1 ' "$F/.xai-status/sub-04_run-1_x.npy.status"
check [ -f "$F/sub-01_run-1_x.npy" ] && check [ ! -f "$F/sub-04_run-1_x.npy" ]
for K in 2 3; do "$E" "$M" --list "$F.list" -o "$F/" --shard $K/3 -q; done
# repaired input: the rerun of every shard explains exactly that one
cp "$T/in/sub-04_run-1_x.npy" "$F.in/"
touch -d '2000-01-01' "$F"/*.npy
for K in 1 2 3; do "$E" "$M" --list "$F.list" -o "$F/" --shard $K/3 2>>"$T/rerun"; done
check [ "$(grep -o '[0-9]* explained' "$T/rerun" | awk '{s += $1} END {print s}')" -eq 1 ]
check [ "$(find "$F" -name '*.npy' -newer "$T/list" | wc -l)" -eq 1 ]
for f in "$T"/ref/*.npy; do check cmp -s "$f" "$F/${f#$T/ref/}"; done
# a changed input is redone, an unchanged one is not
$PY -c "import numpy as np; np.save('$F.in/plain.npy', np.load('$F.in/plain.npy') * 2)"
: >"$T/rerun"
for K in 1 2 3; do "$E" "$M" --list "$F.list" -o "$F/" --shard $K/3 2>>"$T/rerun"; done
check [ "$(grep -o '[0-9]* explained' "$T/rerun" | awk '{s += $1} END {print s}')" -eq 1 ]
check [ "$(grep -o '[0-9]* already done' "$T/rerun" | awk '{s += $1} END {print s}')" -eq 6 ]

# a changed option changes every output: all redone; moving -q or --shard changes nothing
: >"$T/rerun"
for K in 1 2 3; do "$E" "$M" --list "$F.list" -o "$F/" --shard $K/3 --composite epsilon 2>>"$T/rerun"; done
check [ "$(grep -o '[0-9]* explained' "$T/rerun" | awk '{s += $1} END {print s}')" -eq 7 ]
"$E" "$M" -q --composite epsilon --list "$F.list" -o "$F/" 2>"$T/rerun"; check [ $? -eq 0 ]
check [ ! -s "$T/rerun" ]

# one load and plan serves the items of one shape: inputs of changing shapes (a stack of 4, one
# sample with and without N, a wrong shape between them) each give their single-input result
Z="$T/shapes"
mkdir -p "$Z.in"
$PY - "$S/datasets/example/input.npy" "$Z.in" <<'PYEOF' || exit 1
import sys, numpy as np
x = np.load(sys.argv[1]).astype(np.float32)
d = sys.argv[2]
np.save(f"{d}/a-stack.npy", x)
np.save(f"{d}/b-one.npy", x[1:2] * 3)
np.save(f"{d}/c-bare.npy", x[2])
np.save(f"{d}/d-wrong.npy", x[:, :, :4, :])
np.save(f"{d}/e-stack.npy", np.roll(x, 5, axis=-1))
np.save(f"{d}/f-stack.npy", -x)
PYEOF
ls "$Z.in"/*.npy >"$Z.list"
"$E" "$M" --list "$Z.list" -o "$Z/" -q 2>"$T/err"; rc=$?
check [ $rc -eq 3 ]
check grep -q "d-wrong.npy" "$T/err"
for n in a-stack b-one c-bare e-stack f-stack; do
  "$E" "$M" "$Z.in/$n.npy" -o "$Z.$n.npy" -q
  check cmp -s "$Z.$n.npy" "$Z/$n.npy"
done

# --slurm --dry-run: the array script, no Slurm needed; only unfinished shards are listed
rm -f "$T/n3/sub-01_run-1_x.npy"
"$E" "$M" --list "$T/list" -o "$T/n3/" --shard 1/3 --slurm --dry-run --max-parallel 2 \
  --slurm-args "-p debug" >"$T/dry" 2>"$T/err"; check [ $? -eq 0 ]
check grep -q '^#SBATCH --array=0%2$' "$T/dry"
check grep -q "shard \"\$((SLURM_ARRAY_TASK_ID + 1))/3\"" "$T/dry"
check grep -q "sbatch --parsable -p debug" "$T/dry"
check [ -f "$T/n3/slurm/xai-explain-array.sbatch" ]
if grep -q -- '--dry-run\|--slurm \|--max-parallel' "$T/n3/slurm/xai-explain-array.sbatch"; then bad "slurm options in the task line"; fi

# usage errors
"$E" "$M" "$T/in/plain.npy" -o "$T/x.npy" --shard 1/2 2>/dev/null; check [ $? -eq 2 ]
"$E" "$M" "$T/in/plain.npy" -o "$T/d/" --shard 3/2 2>/dev/null; check [ $? -eq 2 ]
"$E" "$M" "$T/in/plain.npy" "$T/in/plain.npy" -o "$T/d/" 2>/dev/null; check [ $? -eq 2 ]
"$E" "$M" --list "$T/nonexistent" -o "$T/d/" 2>/dev/null; check [ $? -eq 1 ]

echo "explain-batch: $pass passed, $fail failed"
[ $fail -eq 0 ]
