#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The shared libraries export only xai_* symbols (hidden visibility + version script).
# Usage: check-symbols.sh LIB.so...
set -u
fail=0
for lib in "$@"; do
  leaks=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBR]/ {print $3}' | grep -v '^xai_' | grep -v '^XAI_0$' || true)
  exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBR]/' | grep -c ' xai_' || true)
  if [ -n "$leaks" ]; then
    echo "FAIL: $lib exports non-xai symbols:"; echo "$leaks" | head -20; fail=$((fail + 1))
  elif [ "$exported" -eq 0 ]; then
    echo "FAIL: $lib exports no xai_ symbol"; fail=$((fail + 1))
  else
    echo "ok: $lib exports $exported xai_ symbols and nothing else"
  fi
done
[ "$fail" -eq 0 ]
