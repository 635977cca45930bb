# SPDX-License-Identifier: GPL-3.0-or-later
# Counters and checks shared by the shell tests; source it after setting T (a scratch folder).
#   ok / bad MSG           count a pass / a failure (printed)
#   check CMD...           pass when CMD succeeds
#   expect CODE PAT CMD... pass when CMD exits CODE and PAT (if not empty) is in its stderr
#   finish NAME            print the counts; the status is 0 only without failures
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { if "$@"; then ok; else bad "$*"; fi; }
expect() {
  code=$1 pat=$2; shift 2
  "$@" 2>"$T/err" >/dev/null; rc=$?
  if [ $rc -ne "$code" ]; then bad "exit $rc, want $code: $*"; cat "$T/err"; return; fi
  if [ -n "$pat" ] && ! grep -q -- "$pat" "$T/err"; then bad "no '$pat' in: $(cat "$T/err")"; return; fi
  ok
}
finish() {
  echo "$1: $pass passed, $fail failed"
  [ $fail -eq 0 ]
}
