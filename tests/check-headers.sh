#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Every public header compiles on its own as strict C11 (and C++-safe extern "C" is not required).
# Usage: check-headers.sh CC SOURCE_ROOT
set -u
cc="$1"
root="$2"
fail=0
n=0
for h in "$root"/libxai/include/xai.h "$root"/libxai/include/xai/*.h "$root"/formats/include/xai/*.h; do
  n=$((n + 1))
  if ! printf '#include "%s"\nint main(void) { return 0; }\n' "$h" |
      "$cc" -std=c11 -pedantic -Wall -Wextra -Werror -fsyntax-only \
        -I "$root/libxai/include" -I "$root/formats/include" -x c - 2>/tmp/hdr.$$; then
    echo "FAIL: $h"; cat /tmp/hdr.$$; fail=$((fail + 1))
  fi
done
rm -f /tmp/hdr.$$
# the umbrella header names every public libxai header
for h in "$root"/libxai/include/xai/*.h; do
  b="xai/$(basename "$h")"
  if ! grep -q "#include \"$b\"" "$root/libxai/include/xai.h"; then
    echo "FAIL: xai.h does not include $b"; fail=$((fail + 1))
  fi
done
echo "$((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
