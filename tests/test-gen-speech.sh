#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# gen_speech leaves only finished files: with a stand-in for espeak-ng that fails, one that
# writes a file that is not audio, and one whose run is interrupted (SIGTERM to gen_speech),
# the output folder holds no temporary (espeak-ng's WAV, labels.csv before its rename), and
# gen_speech exits non-zero; test voices of one sex are warned about. Needs no espeak-ng.
# Usage: test-gen-speech.sh GEN_SPEECH
set -u
GEN="$1"
T=$(mktemp -d /tmp/xai-gen-speech-test-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# stand-ins called as espeak-ng: ... -w WAV WORD
cat >"$T/fails" <<'S'
#!/bin/sh
exit 1
S
cat >"$T/garbage" <<'S'
#!/bin/sh
while [ "$#" -gt 1 ]; do [ "$1" = -w ] && printf 'not a wav file' >"$2"; shift; done
exit 0
S
cat >"$T/interrupted" <<'S'
#!/bin/sh
while [ "$#" -gt 1 ]; do [ "$1" = -w ] && printf 'half a wav' >"$2"; shift; done
kill -TERM "$PPID"
sleep 1
exit 0
S
chmod +x "$T/fails" "$T/garbage" "$T/interrupted"

for fake in fails garbage interrupted; do
  out="$T/out-$fake"
  "$GEN" --espeak "$T/$fake" --voices m1 --digits 2 --speeds 160 --pitches 50 "$out" >"$T/log" 2>&1
  rc=$?
  [ "$rc" -ne 0 ] || bad "$fake: exit 0"
  left=$(ls -A "$out" 2>/dev/null)
  [ -z "$left" ] || bad "$fake: left behind in the output folder: $left"
done

# the test speakers are the last --test-voices listed: a one-sex hold-out is warned about
for v in m1,m2,f1,f2 m1,f1,m2,f2; do
  "$GEN" --espeak "$T/fails" --nuisance realistic --length 1 --voices "$v" --digits 2 --speeds 160 --pitches 50 \
    --shortcut-class 1 --test-voices 2 "$T/split-$v" >"$T/log" 2>&1
  case $v in
  m1,m2,*) grep -q "the 2 test voices (f1 ... f2) are all female" "$T/log" || bad "$v: no one-sex warning" ;;
  *) ! grep -q "test voices" "$T/log" || bad "$v: warned though both sexes are held out" ;;
  esac
done

[ "$fail" -eq 0 ] || exit 1
echo "gen_speech: no temporaries left on failure or interrupt; a one-sex hold-out is warned about"
exit 0
