#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# xai-eeg's participant level as a batch: --shard K/N outputs equal a one-shard run for
# N = 2 and 3 (uneven; data files byte for byte, sidecars but for CommandLine and DateTime),
# the runs of one subject share a shard, a shard writes only its own recordings, a rerun
# explains nothing new, a broken recording is named and exits 3 while the others finish, a
# repaired one is all a rerun redoes, --slurm --dry-run writes the array script and the group
# step (afterok) without Slurm, and the group level reads the sharded outputs.
# Usage: test-eeg-batch.sh XAI_EEG GEN_EEG SOURCE_ROOT
set -u
E="$1"
G="$2"
M="$3/datasets/eeg/mi-shallow.onnx"
PY=/usr/bin/python3
T=$(mktemp -d /tmp/xai-eeg-batch-XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { if "$@"; then ok; else bad "$*"; fi; }

# four subjects, sub-02 with two runs in a session folder (names without ses-, as before)
B="$T/bids"
"$G" --subject 01 --runs 1 --trials 6 "$B/sub-01/eeg" >/dev/null || exit 1
"$G" --subject 02 --seed 5 --runs 2 --trials 6 "$B/sub-02/ses-a/eeg" >/dev/null || exit 1
"$G" --subject 03 --seed 7 --runs 1 --trials 6 "$B/sub-03/eeg" >/dev/null || exit 1
"$G" --subject 04 --seed 9 --runs 1 --trials 6 "$B/sub-04/eeg" >/dev/null || exit 1
run() { out="$1"; shift; "$E" "$B" "$out" participant --model "$M" --no-figures -q "$@"; }
files() { (cd "$1" && find . -name '*.npy' -o -name '*.tsv' | sort); }

run "$T/ref"; check [ $? -eq 0 ]
check [ "$(files "$T/ref" | wc -l)" -eq 15 ] # 5 recordings x relevance, channels, events
check [ "$(cat "$T/ref/.xai-status/"*.status | grep -c '^done ')" -eq 5 ]

same_as_ref() { # $1: an output folder; every data file equal to the reference's
    d="$1"
    check [ "$(files "$T/ref")" = "$(files "$d")" ]
    for f in $(files "$T/ref"); do
        cmp -s "$T/ref/$f" "$d/$f" || bad "$d/$f differs"
    done
    if [ -x "$PY" ]; then
        "$PY" - "$T/ref" "$d" <<'PYEOF' || bad "sidecars of $d differ"
import glob, json, os, sys
ref, out = sys.argv[1], sys.argv[2]
for p in glob.glob(os.path.join(ref, "sub-*", "**", "*.json"), recursive=True):
    a, b = (json.load(open(q)) for q in (p, os.path.join(out, os.path.relpath(p, ref))))
    for d in (a, b):  # the run's date and command line, also where a data dictionary nests them
        for k in ("CommandLine", "DateTime"):
            d.pop(k, None)
            if isinstance(d.get("Provenance"), dict):
                d["Provenance"].pop(k, None)
    assert a == b, p
PYEOF
    fi
}

for N in 2 3; do
    for K in $(seq 1 $N); do
        run "$T/n$N" --shard $K/$N; check [ $? -eq 0 ]
    done
    same_as_ref "$T/n$N"
done
# subjects in byte order 01 02 03 04: shard 2/3 = {02 (both runs)}, shard 1/3 = {01, 04}
run "$T/one" --shard 2/3; check [ $? -eq 0 ]
check [ "$(find "$T/one" -name '*_relevance.npy' | wc -l)" -eq 2 ]
check [ "$(find "$T/one/sub-02" -name '*_relevance.npy' | wc -l)" -eq 2 ]
"$E" "$B" "$T/one" participant --model "$M" --no-figures --shard 2/3 2>"$T/again"
check grep -q "0 explained, 0 failed, 2 already done" "$T/again"

# a broken recording: named, exit 3, status "failed 1"; the rest of its shard is done
cp -r "$B" "$T/bad"
head -c 3000 "$B/sub-03/eeg/sub-03_task-mi_run-1_eeg.edf" >"$T/bad/sub-03/eeg/sub-03_task-mi_run-1_eeg.edf"
for K in 1 2 3; do
    "$E" "$T/bad" "$T/fo" participant --model "$M" --no-figures -q --shard $K/3 2>>"$T/err"
    echo $? >>"$T/codes"
done
check [ "$(tr '\n' ' ' <"$T/codes")" = "0 0 3 " ]
check grep -q "sub-03_task-mi_run-1_eeg.edf" "$T/err"
check grep -q '^failed 1 ' "$T/fo/.xai-status/sub-03_task-mi_run-1_desc-lrp_relevance.npy.status"
cp "$B/sub-03/eeg/sub-03_task-mi_run-1_eeg.edf" "$T/bad/sub-03/eeg/"
: >"$T/rerun"
for K in 1 2 3; do
    "$E" "$T/bad" "$T/fo" participant --model "$M" --no-figures --shard $K/3 2>>"$T/rerun"
done
check [ "$(grep -c ' 1 explained' "$T/rerun")" -eq 1 ]
check [ "$(grep -c ' 0 explained' "$T/rerun")" -eq 2 ]

# the array script without Slurm: one task per shard with work left
"$E" "$B" "$T/dry" participant --model "$M" --shard 1/3 --slurm --dry-run --max-parallel 2 >"$T/script" 2>&1
check [ $? -eq 0 ]
check grep -q "^#SBATCH --array=0,1,2%2$" "$T/script"
check grep -q 'shard "$((SLURM_ARRAY_TASK_ID + 1))/3"' "$T/script"
check [ ! -e "$T/dry/sub-01" ]
# and the group level after it: afterok on the array, the same folders, absolute
check grep -q '^# submit: sbatch --parsable --dependency=afterok:ARRAY_JOB_ID .*/dry/slurm/xai-eeg-group.sbatch$' \
    "$T/script"
check grep -q "^'[^']*xai-eeg' '$B' '$T/dry' 'group' '--force'\$" "$T/script"
check [ -s "$T/dry/slurm/xai-eeg-group.sbatch" ]
# explain --slurm over files has no group level
"$E" explain --model "$M" --edf "$B/sub-01/eeg/sub-01_task-mi_run-1_eeg.edf" -o "$T/dry2" --slurm --dry-run \
    >"$T/script2" 2>&1
check [ $? -eq 0 ]
check [ ! -e "$T/dry2/slurm/xai-eeg-group.sbatch" ]
check [ "$(grep -c '^# submit' "$T/script2")" -eq 1 ]

# usage: shards belong to explain and the participant level; K within 1..N
"$E" train --edf "$B/sub-01/eeg/sub-01_task-mi_run-1_eeg.edf" --events T1=left,T2=right -o "$T/m.onnx" \
    --shard 1/2 2>/dev/null
check [ $? -eq 2 ]
run "$T/x" --shard 3/2 2>/dev/null; check [ $? -eq 2 ]
"$E" "$B" "$T/n3" group -q --shard 1/2 2>/dev/null; check [ $? -eq 2 ]
# the group level over sharded outputs equals the one over the reference
"$E" "$B" "$T/n3" group -q --no-figures; check [ $? -eq 0 ]
"$E" "$B" "$T/ref" group -q --no-figures; check [ $? -eq 0 ]
check cmp -s "$T/ref/group_desc-lrp_channels.tsv" "$T/n3/group_desc-lrp_channels.tsv"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
