#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The man pages made from --help: for each PROGRAM PAGE pair, every option (-x, --long)
# that "PROGRAM --help" prints, and that "PROGRAM WORD --help" prints for each subcommand
# WORD of its synopsis, appears in PAGE; and man -l renders PAGE without a warning.
# Usage: test-man.sh PROGRAM PAGE [PROGRAM PAGE ...]
set -u
fail=0
if ! command -v man >/dev/null 2>&1 || ! command -v groff >/dev/null 2>&1; then
  echo "SKIP: man (man-db) or groff (groff-base) is not installed"
  exit 77
fi
tmp=$(mktemp -d /tmp/xai-test-man-XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
export ASAN_OPTIONS=detect_leaks=0 LC_ALL=C.UTF-8 MAN_DISABLE_SECCOMP=1

# the options of a help text, one per line
options() {
  grep -oE '(^|[^A-Za-z0-9_\\-])--?[A-Za-z][A-Za-z0-9_+-]*' "$1" | sed -E 's/^[^-]*//' | sort -u
}

# the page as text: roff escapes for hyphens, fonts, zero-width joins and breaks removed
plain() {
  sed -e 's/\\-/-/g' -e 's/\\f[BRIP]//g' -e 's/\\&//g' -e 's/\\://g' -e 's/\\e/\\/g' "$1"
}

check_help() { # PROGRAM-NAME HELP-FILE PAGE-TEXT
  n=0
  for opt in $(options "$2"); do
    pat=$(printf '%s' "$opt" | sed 's/+/\\+/g')
    if ! grep -qE -- "(^|[^A-Za-z0-9_-])$pat([^A-Za-z0-9_-]|\$)" "$3"; then
      echo "FAIL: $1: option $opt of --help is not in the man page"
      fail=1
    fi
    n=$((n + 1))
  done
  echo "$1: $n options checked"
  [ "$n" -gt 0 ] || { echo "FAIL: $1: no options found in --help"; fail=1; }
}

while [ $# -ge 2 ]; do
  prog=$1 page=$2
  shift 2
  name=$(basename "$prog")
  if [ ! -s "$page" ]; then
    echo "FAIL: $name: no man page at $page"
    fail=1
    continue
  fi
  plain "$page" > "$tmp/$name.txt"
  "$prog" --help > "$tmp/$name.help" 2>&1 || { echo "FAIL: $name --help failed"; fail=1; }
  check_help "$name" "$tmp/$name.help" "$tmp/$name.txt"
  for word in $(sed -nE "s/^[[:space:]]+$name ([a-z][a-z-]*)([[:space:]].*)?\$/\\1/p" "$tmp/$name.help" | sort -u); do
    "$prog" "$word" --help > "$tmp/$name.$word.help" 2>/dev/null || continue
    cmp -s "$tmp/$name.help" "$tmp/$name.$word.help" && continue
    check_help "$name $word" "$tmp/$name.$word.help" "$tmp/$name.txt"
  done
  MANWIDTH=80 man --warnings -E UTF-8 -l "$page" > "$tmp/$name.out" 2> "$tmp/$name.warn"
  rc=$?
  if [ $rc -ne 0 ] || [ -s "$tmp/$name.warn" ] || [ ! -s "$tmp/$name.out" ]; then
    echo "FAIL: $name: man -l exits $rc or warns:"
    cat "$tmp/$name.warn"
    fail=1
  fi
  grep -q "^NAME" "$tmp/$name.out" && grep -q "^SYNOPSIS" "$tmp/$name.out" ||
    { echo "FAIL: $name: the rendered page has no NAME or SYNOPSIS"; fail=1; }
done
exit $fail
