#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# A short libFuzzer run of every fuzz target (clang, ASan+UBSan, libraries instrumented),
# after the corpus replays that `meson test` does. Each target runs FUZZ_RUNS inputs
# (default 20000) from a fixed seed on a scratch copy of its seed corpus, capped at
# FUZZ_SECONDS (default 60): the same build explores the same inputs, so a pass here is a
# pass in CI. FUZZ_JOBS targets (default: the CPU count) run at once. Any crash, leak, UBSan
# report or memory blow-up fails the run and leaves the reproducer in the scratch directory,
# whose path is printed. Longer exploratory runs:
# FUZZ_RUNS=-1 FUZZ_SECONDS=600 tests/fuzz/run-short.sh.
# Without clang nothing is fuzzed: the script says SKIP and exits 77 (automake's skip code), so
# a machine without the fuzzer never counts as a pass (.ci/run, whose install step brings
# clang, stops there with that status).
# Usage: tests/fuzz/run-short.sh [BUILD_DIR]        (default build-fuzz)
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
bdir=${1:-build-fuzz}
secs=${FUZZ_SECONDS:-60}
runs=${FUZZ_RUNS:-20000}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
# one target on a scratch copy of its corpus; a pass leaves NAME.pass beside its log
# (the script's own --one mode, so that xargs can run several at once)
fuzz_one() {
  name=$(basename "$1" | sed 's/^fuzz-//')
  mkdir -p "$2/$name"
  cp -r "$root"/tests/fuzz/corpus/"$name"/. "$2/$name/" 2>/dev/null
  if (cd "$2" && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$1" -seed=1 -runs="$runs" \
        -max_total_time="$secs" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
        "$2/$name" >"$2/$name.log" 2>&1) && ! grep -q "runtime error" "$2/$name.log"; then
    : >"$2/$name.pass"
  fi
}
if [ "${1:-}" = --one ]; then
  fuzz_one "$2" "$3"
  exit 0
fi
if ! command -v clang >/dev/null 2>&1; then
  echo "SKIP: run-short: clang not found, so no fuzz target ran (install clang and libclang-rt-14-dev)"
  exit 77
fi
cd "$root" || exit 1
case "$bdir" in /*) ;; *) bdir="$root/$bdir" ;; esac
if [ ! -d "$bdir" ]; then
  CC=clang meson setup "$bdir" -Dfuzz=true -Dbench=false -Db_sanitize=address,undefined -Db_lundef=false \
    >"$bdir.setup.log" 2>&1 || { cat "$bdir.setup.log"; exit 1; }
fi
# only the fuzz targets and what they link: the apps and the check suites are the test build's
targets=$(ninja -C "$bdir" -t targets all | sed -n 's|^\(tests/fuzz/fuzz-[^/:.]*\): .*|\1|p')
[ -n "$targets" ] || { echo "run-short: no fuzz target in $bdir"; exit 1; }
# shellcheck disable=SC2086
ninja -C "$bdir" $targets >"$bdir.build.log" 2>&1 || { tail -30 "$bdir.build.log"; exit 1; }
work=$(mktemp -d /tmp/xai-fuzz-XXXXXX)
for exe in "$bdir"/tests/fuzz/fuzz-*; do
  [ -f "$exe" ] && [ -x "$exe" ] && echo "$exe"
done | xargs -P "$jobs" -I{} sh "$root/tests/fuzz/run-short.sh" --one {} "$work"
pass=0
fail=0
for exe in "$bdir"/tests/fuzz/fuzz-*; do
  [ -f "$exe" ] && [ -x "$exe" ] || continue
  name=$(basename "$exe" | sed 's/^fuzz-//')
  if [ -e "$work/$name.pass" ]; then
    done_runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$name.log" | grep -o '[0-9]*$')
    echo "fuzz $name: ${done_runs:-?} runs, no crash"
    pass=$((pass + 1))
  else
    echo "fuzz $name: FAILED (log and reproducer in $work)"
    tail -40 "$work/$name.log" 2>/dev/null
    fail=$((fail + 1))
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && rm -rf "$work"
[ "$fail" -eq 0 ]
