#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The dataset generators refuse bad option values: a non-number, trailing characters, a value out
# of range, a negative count, an empty string, inf or nan, a missing value (the option last on the
# line) each give exit 2, a message naming the option (and the value, when there is one), and no
# output folder. One small valid run per generator succeeds. gen_speech runs with a stand-in for
# espeak-ng that fails, so its valid run is checked for getting past the options only.
# Usage: test-gen-args.sh GEN_EEG GEN_FMRI GEN_GAIT GEN_SPEECH
set -u
EEG=$1 FMRI=$2 GAIT=$3 SPEECH=$4
T=$(mktemp -d /tmp/xai-gen-args-test-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
n=0
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# refused GEN OPTION VALUE [OTHER ARGS...]: exit 2, the message names OPTION and VALUE, no OUTDIR
refused() {
  gen=$1 opt=$2 val=$3
  shift 3
  n=$((n + 1))
  out="$T/out-$n"
  "$gen" "$@" "$opt" "$val" "$out" >"$T/log" 2>&1
  rc=$?
  what="$(basename "$gen") $* $opt '$val'"
  [ "$rc" -eq 2 ] || bad "$what: exit $rc, not 2"
  grep -qF -- "$opt: invalid value '$val'" "$T/log" || bad "$what: no message naming it: $(cat "$T/log")"
  [ ! -e "$out" ] || bad "$what: $out was created"
}

# missing GEN OPTION: OPTION last on the line, after OUTDIR
missing() {
  n=$((n + 1))
  out="$T/out-$n"
  "$1" "$out" "$2" >"$T/log" 2>&1
  rc=$?
  [ "$rc" -eq 2 ] || bad "$(basename "$1") $2 last: exit $rc, not 2"
  grep -qF -- "$2: missing value" "$T/log" || bad "$(basename "$1") $2 last: no message: $(cat "$T/log")"
  [ ! -e "$out" ] || bad "$(basename "$1") $2 last: $out was created"
}

for v in abc 12x '' ' 30' 1001 -3 0 1e2; do refused "$EEG" --trials "$v"; done
for v in 12x 32 4097 inf nan 1e999 ''; do refused "$EEG" --rate "$v"; done
for v in -1 x 18446744073709551616 ' 1' 1.5; do refused "$EEG" --seed "$v"; done
refused "$EEG" --runs 0
refused "$EEG" --subjects 100
refused "$EEG" --sessions -1
refused "$EEG" --task 2 --nuisance realistic
refused "$EEG" --task 11 --nuisance realistic
refused "$EEG" --placement middle
for o in --seed --rate --trials --runs --subjects --sessions --task --subject --nuisance; do missing "$EEG" "$o"; done

for v in 0 -2 10.5 abc ''; do refused "$FMRI" --tr "$v"; done
for v in -3 0 100 3x; do refused "$FMRI" --subjects "$v"; done
for v in 12x12 12x12x10x 12x12x10.5 7x12x12 12x12xz ''; do refused "$FMRI" --dims "$v"; done
for v in 16 16,8, 0.5,8 16,-1 16,x; do refused "$FMRI" --block "$v"; done
refused "$FMRI" --volumes 9
refused "$FMRI" --runs 1.5
refused "$FMRI" --noise -0.1
refused "$FMRI" --intensity 5
refused "$FMRI" --voxel 0
refused "$FMRI" --orient up
for o in --seed --subjects --runs --dims --volumes --tr --amplitude --noise --roi-radius --voxel --motion \
  --drift --intensity --block --nuisance --orient --design; do missing "$FMRI" "$o"; done
# a run too short for two blocks is refused before anything is written
"$FMRI" --volumes 12 "$T/short" >"$T/log" 2>&1
rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--volumes 12 of --tr 2 s" "$T/log" && [ ! -e "$T/short" ] ||
  bad "gen_fmri --volumes 12: exit $rc, $(cat "$T/log")"

for v in 0 1001 -1 x ''; do refused "$GAIT" --seed "$v"; done
for v in 0 -4 3x ''; do refused "$GAIT" --cycles "$v"; done
refused "$GAIT" --rate 49
refused "$GAIT" --missing-events 1
refused "$GAIT" --event-jitter 0.3
refused "$GAIT" --signature-shift 80
refused "$GAIT" --drop-variable Elbow
for o in --seed --subjects --trials --cycles --rate --offset-sd --missing-events --event-jitter \
  --signature-shift --drop-variable --sides --markers --nuisance; do missing "$GAIT" "$o"; done

for v in abc 0 11 3x ''; do refused "$SPEECH" --digits "$v"; done
for v in 8000x 3999 nan; do refused "$SPEECH" --rate "$v"; done
refused "$SPEECH" --seed -1
refused "$SPEECH" --planted-hz 4000
refused "$SPEECH" --planted-db 3
refused "$SPEECH" --reverb 2
refused "$SPEECH" --test-voices -1
refused "$SPEECH" --snr 0
refused "$SPEECH" --shortcut-box 0.1,0.3,0.5
refused "$SPEECH" --speeds 130,,160
refused "$SPEECH" --pitches 100
refused "$SPEECH" --length 61
for o in --digits --rate --seed --length --planted-hz --snr --speeds; do missing "$SPEECH" "$o"; done

# valid runs at small size
"$EEG" --seed 3 --runs 1 --trials 2 "$T/eeg" >"$T/log" 2>&1 && [ -s "$T/eeg/sub-01_task-mi_run-1_eeg.edf" ] ||
  bad "gen_eeg small run: $(cat "$T/log")"
"$FMRI" --seed 3 --runs 1 --dims 8x8x8 --volumes 28 "$T/fmri" >"$T/log" 2>&1 &&
  [ -n "$(find "$T/fmri" -name '*_bold.nii.gz')" ] || bad "gen_fmri small run: $(cat "$T/log")"
"$GAIT" --seed 3 --subjects 1 --trials 1 --cycles 1 "$T/gait" >"$T/log" 2>&1 &&
  [ -n "$(find "$T/gait" -name '*.c3d')" ] || bad "gen_gait small run: $(cat "$T/log")"
# valid values: gen_speech gets past its options to the stand-in, which fails (exit 1, not 2)
"$SPEECH" --espeak false --voices m1 --digits 1 --speeds 160 --pitches 50 --seed 18446744073709551615 \
  --rate 16000 --planted-hz 7999.5 "$T/speech" >"$T/log" 2>&1
rc=$?
[ "$rc" -eq 1 ] || bad "gen_speech valid options: exit $rc: $(cat "$T/log")"

[ "$fail" -eq 0 ] || exit 1
echo "gen_eeg, gen_fmri, gen_gait, gen_speech: $n bad option values refused with exit 2 and no output; small runs pass"
exit 0
