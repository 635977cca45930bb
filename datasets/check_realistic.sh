#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The realistic-nuisance EEG, fMRI and gait sets are learnable across groups but not trivially:
# a linear baseline's held-out-group 95 % interval lies above chance and its accuracy below 1.
# Usage: check_realistic.sh GEN_EEG GEN_FMRI GEN_GAIT CHECK_BASELINE_PY
# Exit: 0 pass, 1 failure, 77 skip (no python3 with numpy, scipy, sklearn, mne, nibabel).
set -u
py=/usr/bin/python3
"$py" -c 'import numpy, scipy, sklearn, mne, nibabel' 2>/dev/null ||
  { echo "SKIP: /usr/bin/python3 with numpy, scipy, sklearn, mne and nibabel is needed"; exit 77; }
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
fail=0
"$1" --nuisance realistic --seed 1 --subjects 4 --sessions 2 --runs 2 "$T/eeg" || fail=1
"$2" --nuisance realistic --seed 1 --subjects 2 --runs 4 "$T/fmri" || fail=1
"$3" --nuisance realistic --seed 1 --subjects 12 --trials 6 --cycles 6 "$T/gait" || fail=1
for k in eeg fmri gait; do
  "$py" "$4" --assert $k "$T/$k" || fail=1
done
[ $fail = 0 ] && echo "PASS" || echo "FAIL"
exit $fail
