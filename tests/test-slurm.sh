#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# xai-explain's batch (and xai-eeg's and xai-fmri's participant levels, the fMRI group step
# after them, xai-gait study, xai-speech explain, and xai-evaluate's methods with its merge
# step) on a real Slurm: starts a private
# single-node Slurm (its own config, ports, state and pid files under a temp folder; munged
# from Debian's munge, reused when one already runs), runs the batch as a 3-task job array
# with --slurm --wait, checks the outputs are byte-identical to the one-machine run, kills a
# task mid-way, checks --wait names the unfinished inputs and a rerun resubmits only that
# shard, runs xai-eeg's participant level as 3 array tasks and its group step (afterok)
# against the one-machine run,
# measures the per-task scheduling overhead, then stops exactly the daemons it started (pid
# files).
# SKIP (exit 77) when not root or the packages (slurmctld slurmd slurm-client munge) are
# missing. Every wait is bounded.
# Usage: test-slurm.sh BUILD_ROOT SOURCE_ROOT
set -u
E="$1/apps/xai-explain"
S="$2"
PY=/usr/bin/python3
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root to start slurmctld, slurmd and munged"
for p in /usr/sbin/slurmctld /usr/sbin/slurmd /usr/sbin/munged sbatch squeue scancel scontrol sinfo; do
  command -v "$p" >/dev/null 2>&1 || skip "$p missing (apt-get install slurmctld slurmd slurm-client munge)"
done
$PY -c 'import numpy' 2>/dev/null || skip "numpy missing"
T=$(mktemp -d /tmp/xai-slurm-XXXXXX)
chmod 755 "$T"
STARTED_MUNGE=""
stop_pid() { # stop_pid PIDFILE: TERM, wait up to 10 s, then KILL
  [ -s "$1" ] || return 0
  pid=$(cat "$1")
  kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null
  i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
  return 0
}
cleanup() {
  if [ -s "$T/slurmctld.pid" ]; then
    timeout 10 scontrol shutdown >/dev/null 2>&1
    stop_pid "$T/slurmd.pid"
    stop_pid "$T/slurmctld.pid"
  fi
  [ -n "$STARTED_MUNGE" ] && stop_pid "$STARTED_MUNGE"
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# ---- munge (shared by anything on this host: reuse a running one) ----
HOST=$(hostname -s)
getent hosts "$HOST" >/dev/null || echo "127.0.0.1 $HOST" >>/etc/hosts
MPID=/run/munge/munged.pid
if ! { [ -s $MPID ] && kill -0 "$(cat $MPID)" 2>/dev/null; }; then
  mkdir -p /run/munge /etc/munge
  [ -s /etc/munge/munge.key ] || head -c 1024 /dev/urandom >/etc/munge/munge.key
  chown -R munge:munge /etc/munge /run/munge
  chmod 400 /etc/munge/munge.key
  runuser -u munge -- /usr/sbin/munged || skip "munged did not start"
  STARTED_MUNGE=$MPID
fi

# ---- a private Slurm: own config (SLURM_CONF), ports, state ----
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])'; }
P1=$(free_port); P2=$(free_port)
export SLURM_CONF="$T/slurm.conf"
NODE=$(/usr/sbin/slurmd -C | head -n 1)
mkdir -p "$T/state" "$T/spool"
cat >"$SLURM_CONF" <<CONF
ClusterName=xaitest
SlurmctldHost=$HOST
SlurmctldPort=$P1
SlurmdPort=$P2
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
MailProg=/bin/true
$NODE State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
/usr/sbin/slurmctld -c || skip "slurmctld did not start"
/usr/sbin/slurmd || skip "slurmd did not start"
i=0
until [ "$(timeout 5 sinfo -h -o %T 2>/dev/null)" = idle ]; do
  i=$((i + 1))
  [ $i -gt 60 ] && { tail -5 "$T/slurmctld.log" "$T/slurmd.log"; skip "node not idle after 30 s"; }
  sleep 0.5
done
echo "slurm: private controller on $HOST:$P1 is up"

pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { if "$@"; then ok; else bad "$*"; fi; }
# wait_gone JOBID SECONDS: poll squeue until the job left the queue; 1 on timeout
wait_gone() {
  i=0
  while [ -n "$(timeout 5 squeue -h -j "$1" -o %i 2>/dev/null)" ]; do
    i=$((i + 1)); [ $i -gt $(($2 * 10)) ] && return 1; sleep 0.1
  done
}

# kill_running DIR ERR: once DIR/.xai-status holds a file, cancel the array task running then
# (the array of the submission that ERR names); sets JOB, RUNNING and TASK
kill_running() {
  JOB=""; RUNNING=""; i=0
  while [ -z "$RUNNING" ] && [ $i -lt 1200 ]; do
    i=$((i + 1)); sleep 0.1
    [ "$(ls "$1"/.xai-status 2>/dev/null | wc -l)" -ge 1 ] || continue
    JOB=$(sed -n 's/.*submitted array job \([0-9]*\).*/\1/p' "$2")
    [ -n "$JOB" ] && RUNNING=$(timeout 5 squeue -h -j "$JOB" -t R -o %i | head -n 1)
  done
  TASK=${RUNNING#*_}
  [ -n "$RUNNING" ] || return 1
  timeout 10 scancel "$RUNNING"
  wait_gone "$JOB" 300 || bad "array $JOB still queued after 300 s"
}
# kill_midway DIR ERR TOTAL CMD...: runs CMD (which writes DIR, stderr to ERR) in the background
# and kills one task mid-way. On a loaded machine the cancel can reach a task that has just
# finished, so that nothing was interrupted; that case is run again from scratch (3 tries).
# Sets RC (CMD's status), NDONE (inputs done) and TASK.
kill_midway() {
  dir=$1 err=$2 total=$3; shift 3
  for try in 1 2 3; do
    rm -rf "$dir"
    "$@" 2>"$err" &
    wpid=$!
    kill_running "$dir" "$err" || bad "no running task found in $dir"
    wait "$wpid"; RC=$?
    NDONE=$(grep -l '^done' "$dir"/.xai-status/* 2>/dev/null | wc -l)
    [ "$NDONE" -lt "$total" ] && return 0
    echo "slurm: the cancel reached task $TASK after it had finished (try $try of 3)"
  done
}

# ---- inputs: 9 subjects, stacks large enough that a task takes a few seconds, so that the kill
# below finds one running: 256 shifted copies of the example, scaled up where this build explains
# them in under half a second an input (a release build takes about a tenth) ----
M="$S/datasets/example/model.onnx"
make_inputs() { # make_inputs COPIES: writes $T/in and $T/list, runs the one-machine reference
  rm -rf "$T/in" "$T/ref"; mkdir -p "$T/in"
  $PY - "$S/datasets/example/input.npy" "$T/in" "$1" <<'PYEOF' || exit 1
import sys, numpy as np
x = np.load(sys.argv[1]).astype(np.float32)
for i in range(9):
    np.save(f"{sys.argv[2]}/sub-{i + 1:02d}_x.npy",
            np.concatenate([np.roll(x, i + k, axis=-1) for k in range(int(sys.argv[3]))]))
PYEOF
  ls "$T"/in/*.npy >"$T/list"
  t0=$(date +%s.%N)
  "$E" "$M" --list "$T/list" -o "$T/ref/" -q; check [ $? -eq 0 ]
  t1=$(date +%s.%N)
}
make_inputs 256
scale=$($PY -c 'import math, sys; print(math.ceil(0.5 * 9 / max(float(sys.argv[2]) - float(sys.argv[1]), 1e-3)))' "$t0" "$t1")
[ "$scale" -gt 1 ] && make_inputs $((256 * scale))

# ---- 3 array tasks with --wait: byte-identical outputs ----
cd "$T"
"$E" "$M" --list list -o sl/ -q --shard 1/3 --slurm --wait --wait-timeout 300 --max-parallel 2 2>"$T/err"
rc=$?; check [ $rc -eq 0 ]; [ $rc -eq 0 ] || cat "$T/err"
check grep -q '^#SBATCH --array=0,1,2%2$' "$T/sl/slurm/xai-explain-array.sbatch"
check [ "$(ls "$T"/sl/slurm/logs/*.log | wc -l)" -eq 3 ]
for f in "$T"/ref/*.npy "$T"/ref/.xai-status/*; do check cmp -s "$f" "$T/sl/${f#$T/ref/}"; done

# ---- a task killed mid-way: --wait names what is missing; the rerun does only that ----
kill_midway "$T/k" "$T/kerr" 9 "$E" "$M" --list list -o k/ -q --shard 1/3 --slurm --wait --wait-timeout 300 --max-parallel 1
check [ -n "$TASK" ]
check [ $RC -eq 3 ]
check grep -q 'did not finish' "$T/kerr"
ndone=$NDONE
echo "slurm: killed task $TASK after $ndone of 9 inputs were done"
check [ "$ndone" -ge 1 ] && check [ "$ndone" -lt 9 ]
touch "$T/marker"
sleep 1
"$E" "$M" --list list -o k/ -q --shard 1/3 --slurm --wait --wait-timeout 300 2>"$T/rerr"
rc=$?; check [ $rc -eq 0 ]; [ $rc -eq 0 ] || cat "$T/rerr"
check grep -q "tasks $TASK of 3" "$T/rerr"
check [ "$(find "$T/k" -maxdepth 1 -name '*.npy' -newer "$T/marker" | wc -l)" -eq $((9 - ndone)) ]
for f in "$T"/ref/*.npy; do check cmp -s "$f" "$T/k/${f#$T/ref/}"; done
# nothing left: no submission
"$E" "$M" --list list -o k/ -q --shard 1/3 --slurm --wait 2>"$T/nerr"; check [ $? -eq 0 ]
check grep -q 'nothing to submit' "$T/nerr"

# ---- xai-gait study as a 3-task array (6 subjects), then its group step as a job after it
# (afterok): the same files as one machine; no array task writes the group tables ----
G="$1/apps/xai-gait"
"$1/datasets/gen_gait" --seed 2 --subjects 6 --trials 4 --cycles 4 "$T/gs" >/dev/null
"$G" train "$T/gs" --epochs 3 -q --progress none -o "$T/g.onnx"; check [ $? -eq 0 ]
"$G" study "$T/gs" "$T/gref" --model "$T/g.onnx" -q --progress none --no-figures; check [ $? -eq 0 ]
"$G" study "$T/gs" "$T/gsl" --model "$T/g.onnx" -q --progress none --no-figures --shard 1/3 --slurm --wait \
  --wait-timeout 300 2>"$T/gerr"
rc=$?; check [ $rc -eq 0 ]; [ $rc -eq 0 ] || cat "$T/gerr"
check [ "$(ls "$T"/gsl/slurm/logs/xai-gait-[0-9]*.log | wc -l)" -eq 3 ]
check [ "$(ls "$T"/gsl/slurm/logs/xai-gait-group-*.log | wc -l)" -eq 1 ]
check grep -q "xai-gait'* '*group'* " "$T/gsl/slurm/xai-gait-group.sbatch"
check [ -s "$T/gsl/group/desc-lrp_summary.tsv" ]
# JSON sidecars and the HTML reports hold dates and command lines
for f in $(cd "$T/gref" && find . -type f ! -name '*.json' ! -name '*.html') $(cd "$T/gref" && find . -name .xai-gait-done.json); do
  check cmp -s "$T/gref/$f" "$T/gsl/$f"
done

# ---- xai-eeg's participant level as 3 array tasks: the data files of one run ----
X="$1/apps/xai-eeg"
EM="$S/datasets/eeg/mi-shallow.onnx"
for k in 1 2 3 4; do "$1/datasets/gen_eeg" --subject 0$k --seed $k --runs 1 --trials 6 "$T/eb/sub-0$k/eeg" >/dev/null; done
"$X" "$T/eb" "$T/eref" participant --model "$EM" --no-figures -q; check [ $? -eq 0 ]
"$X" "$T/eb" "$T/eref" group --no-figures -q; check [ $? -eq 0 ]
"$X" "$T/eb" "$T/esl" participant --model "$EM" --no-figures -q --shard 1/3 --slurm --wait --wait-timeout 300 \
  2>"$T/eerr"
rc=$?; check [ $rc -eq 0 ]; [ $rc -eq 0 ] || { cat "$T/eerr"; tail -n 5 "$T"/esl/slurm/logs/*; }
check [ "$(ls "$T"/esl/slurm/logs/xai-eeg-*_*.log | wc -l)" -eq 3 ]
# the group level ran once, after the array (afterok)
check [ "$(ls "$T"/esl/slurm/logs/xai-eeg-group-*.log | wc -l)" -eq 1 ]
check [ "$(cd "$T/eref" && find . -name '*.npy' | wc -l)" -eq 4 ]
check [ -s "$T/eref/group_desc-lrp_channels.tsv" ]
for f in $(cd "$T/eref" && find . -name '*.npy' -o -name '*.tsv'); do check cmp -s "$T/eref/$f" "$T/esl/$f"; done
# a recording that cannot be read: --wait names it and exits 3 within the bound, and the group
# step, whose afterok can no longer be met, leaves the queue without running
cp -r "$T/eb" "$T/ebad"
: >"$T/ebad/sub-02/eeg/sub-02_task-mi_run-1_eeg.edf"
"$X" "$T/ebad" "$T/efail" participant --model "$EM" --no-figures -q --shard 1/3 --slurm --wait \
  --wait-timeout 300 2>"$T/eferr"
check [ $? -eq 3 ]
check grep -q 'sub-02_task-mi_run-1_eeg.edf: failed' "$T/eferr"
check [ ! -e "$T/efail/group_desc-lrp_channels.tsv" ]
check [ -z "$(ls "$T"/efail/slurm/logs/xai-eeg-group-*.log 2>/dev/null)" ]

# ---- xai-fmri participant level as 3 array tasks, then the group step (afterok) ----
F="$1/apps/xai-fmri"
"$1/datasets/gen_fmri" --seed 3 --subjects 5 --runs 2 --dims 12x12x10 --volumes 40 "$T/fds" >/dev/null
check [ $? -eq 0 ]
"$F" "$T/fds" "$T/fref" participant --epochs 2 -q; check [ $? -eq 0 ]
"$F" "$T/fds" "$T/fref" group -q; check [ $? -eq 0 ]
"$F" "$T/fds" "$T/fsl" participant --epochs 2 -q --shard 1/3 --slurm --wait --wait-timeout 300 2>"$T/ferr"
rc=$?; check [ $rc -eq 0 ]; [ $rc -eq 0 ] || { cat "$T/ferr"; tail -n 5 "$T"/fsl/slurm/logs/*; }
check grep -q '^#SBATCH --array=0,1,2$' "$T/fsl/slurm/xai-fmri-array.sbatch"
check grep -q "group" "$T/fsl/slurm/xai-fmri-group.sbatch"
check [ "$(ls "$T"/fsl/slurm/logs/xai-fmri-group-*.log | wc -l)" -eq 1 ]
# every map, table, figure and model (sidecars hold times and command lines) and the group maps
nf=0
for f in $(cd "$T/fref" && find . -type f ! -name '*.json' ! -name '*.html'); do
  nf=$((nf + 1)); cmp -s "$T/fref/$f" "$T/fsl/$f" || bad "fmri: $f differs from the one-machine run"
done
echo "slurm: xai-fmri: $nf files compared with the one-machine run"
check [ "$nf" -ge 80 ]
check [ -s "$T/fsl/group/task-blocks_desc-lrpFaces_statmap.nii.gz" ]
# rerun: every run is done and unchanged, nothing is submitted
"$F" "$T/fds" "$T/fsl" participant --epochs 2 -q --shard 1/3 --slurm --wait 2>"$T/fnerr"; check [ $? -eq 0 ]
check grep -q 'nothing to submit' "$T/fnerr"

# ---- xai-speech explain as a 3-task array (9 speakers) and its group step (predictions.tsv,
# afterok), a killed task and a rerun ----
# The clips: harmonic tones, one pitch per speaker, named LABEL_SPEAKER_N.wav so a speaker's
# clips stay in one shard; enough per speaker that a task runs for seconds.
A="$1/apps/xai-speech"
SM="$S/datasets/speech/model-digits.onnx"
mkdir -p "$T/spin"
$PY - "$T/spin" <<'PYEOF' || exit 1
import sys, wave
import numpy as np
rng = np.random.default_rng(7)
for j in range(9):
    for i in range(16):
        t = np.arange(int(8000 * rng.uniform(0.4, 0.9))) / 8000
        x = sum(np.sin(2 * np.pi * (100 + 25 * j) * h * t) / h for h in range(1, 16)) * np.hanning(t.size)
        x = x / np.abs(x).max() + 0.02 * rng.standard_normal(t.size)
        with wave.open(f"{sys.argv[1]}/{(i + j) % 10}_spk{j}_{i}.wav", "wb") as w:
            w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
            w.writeframes((0.5 * x * 32767).astype("<i2").tobytes())
PYEOF
NSP=$(ls "$T"/spin/*.wav | wc -l)
"$A" explain --model "$SM" "$T/spin" -o "$T/spref" -q; check [ $? -eq 0 ]
# same_maps DIR: every map and figure as in the one-machine run; the sidecars apart from
# their command line and date; predictions.tsv apart from the folder in its paths
same_maps() {
  $PY - "$T/spref" "$1" <<'PYEOF'
import filecmp, glob, json, os, sys
ref, out = sys.argv[1], sys.argv[2]
assert open(out + "/predictions.tsv").read().replace(out + "/", ref + "/") == open(ref + "/predictions.tsv").read()
assert filecmp.cmp(ref + "/predictions.json", out + "/predictions.json", shallow=False)
maps = sorted(glob.glob(ref + "/*_relevance.npy"))
assert len(maps) == 144 and len(glob.glob(out + "/*_relevance.npy")) == 144
for f in maps + sorted(glob.glob(ref + "/*.png")):
    assert filecmp.cmp(f, os.path.join(out, os.path.basename(f)), shallow=False), f
for f in glob.glob(ref + "/*_relevance.json") + glob.glob(ref + "/*_overlay.json"):
    a, b = json.load(open(f)), json.load(open(os.path.join(out, os.path.basename(f))))
    for k in ("CommandLine", "DateTime"):
        a.pop(k), b.pop(k)
    assert a == b, f
PYEOF
}
"$A" explain --model "$SM" "$T/spin" -o "$T/spsl" -q --shard 1/3 --slurm --wait --wait-timeout 300 --max-parallel 2 \
  2>"$T/sperr"
rc=$?; check [ $rc -eq 0 ]; [ $rc -eq 0 ] || { cat "$T/sperr"; tail -n 5 "$T"/spsl/slurm/logs/*; }
check grep -q '^#SBATCH --array=0,1,2%2$' "$T/spsl/slurm/xai-speech-array.sbatch"
check grep -q -- "--collect" "$T/spsl/slurm/xai-speech-group.sbatch"
check [ "$(ls "$T"/spsl/slurm/logs/xai-speech-group-*.log | wc -l)" -eq 1 ]
check [ "$(ls "$T"/spsl/slurm/logs/xai-speech-[0-9]*_*.log | wc -l)" -eq 3 ]
check [ "$(grep -l '^done' "$T"/spsl/.xai-status/* | wc -l)" -eq "$NSP" ]
same_maps "$T/spsl" || bad "speech: the array's maps differ from the one-machine run"
# one task at a time; once a clip is done, the task running then is killed mid-way
kill_midway "$T/spk" "$T/spkerr" "$NSP" "$A" explain --model "$SM" "$T/spin" -o "$T/spk" -q --shard 1/3 --slurm --wait \
  --wait-timeout 300 --max-parallel 1
check [ -n "$TASK" ]
check [ $RC -eq 3 ]
check grep -q 'did not finish' "$T/spkerr"
check [ ! -e "$T/spk/predictions.tsv" ]
ndone=$NDONE
echo "slurm: xai-speech: killed task $TASK after $ndone of $NSP clips were done"
check [ "$ndone" -ge 1 ] && check [ "$ndone" -lt "$NSP" ]
touch "$T/spmarker"
sleep 1
"$A" explain --model "$SM" "$T/spin" -o "$T/spk" -q --shard 1/3 --slurm --wait --wait-timeout 300 2>"$T/sprerr"
rc=$?; check [ $rc -eq 0 ]; [ $rc -eq 0 ] || cat "$T/sprerr"
check grep -q "tasks $TASK of 3" "$T/sprerr"
check [ "$(find "$T/spk" -maxdepth 1 -name '*_relevance.npy' -newer "$T/spmarker" | wc -l)" -eq $((NSP - ndone)) ]
same_maps "$T/spk" || bad "speech: the rerun's maps differ from the one-machine run"
"$A" explain --model "$SM" "$T/spin" -o "$T/spk" -q --shard 1/3 --slurm --wait 2>"$T/spnerr"; check [ $? -eq 0 ]
check grep -q 'nothing to submit' "$T/spnerr"

# ---- xai-evaluate: 3 methods as 3 array tasks, then the --merge step (afterok) ----
# (block of the evaluation's runs in parts: every table and figure equals one machine's)
V="$1/apps/xai-evaluate"
VA="--patch 1x8 --steps 8 --methods lrp:epsilon,gradient,gradient-x-input -q"
"$V" "$M" "$S/datasets/example/input.npy" -o "$T/vref" $VA; check [ $? -eq 0 ]
"$V" "$M" "$S/datasets/example/input.npy" -o "$T/vsl" $VA --shard 1/3 --slurm --wait --wait-timeout 300 \
  2>"$T/verr"
rc=$?; check [ $rc -eq 0 ]; [ $rc -eq 0 ] || { cat "$T/verr"; tail -n 5 "$T"/vsl/slurm/logs/*; }
check grep -q '^#SBATCH --array=0,1,2$' "$T/vsl/slurm/xai-evaluate-array.sbatch"
check [ "$(ls "$T"/vsl/slurm/logs/xai-evaluate-group-*.log | wc -l)" -eq 1 ]
nv=0
for f in $(cd "$T/vref" && find . -maxdepth 1 -type f ! -name '*.json'); do
  nv=$((nv + 1)); cmp -s "$T/vref/$f" "$T/vsl/$f" || bad "evaluate: $f differs from the one-machine run"
done
echo "slurm: xai-evaluate: $nv files compared with the one-machine run"
check [ "$nv" -eq 5 ]
# ---- end of the xai-evaluate block ----

# ---- scheduling overhead: 20 empty array tasks, and one empty job ----
s0=$(date +%s.%N)
J=$(sbatch --parsable -o /dev/null --wrap true); wait_gone "$J" 60
s1=$(date +%s.%N)
J=$(sbatch --parsable -o /dev/null --array=0-19 --wrap true); wait_gone "$J" 120
s2=$(date +%s.%N)
$PY - "$t0" "$t1" "$s0" "$s1" "$s2" <<'PYEOF'
import sys
t0, t1, s0, s1, s2 = map(float, sys.argv[1:])
print(f"slurm: one machine, 9 inputs: {t1 - t0:.2f} s; one empty job submit-to-done {s1 - s0:.2f} s; "
      f"20 empty array tasks {s2 - s1:.2f} s ({(s2 - s1) / 20:.3f} s per task)")
PYEOF
echo "slurm: $pass passed, $fail failed"
[ $fail -eq 0 ]
