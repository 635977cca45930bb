#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Real-data check of xai-fmri: Haxby et al. (2001) subject 1, face vs house, leave-one-run-out,
# app defaults, seeds 1-3, on both data forms (12 runs of 25 mm volumes with events.tsv; one
# concatenated single-slice file with a `label chunk` table). The linear baseline (LinearSVC and
# logistic regression, tests/haxby_baseline.py) runs on the same voxels in the same test.
# Asserts: mean over seeds >= LinearSVC and >= logistic regression - 0.03 (the network and the
# logistic regression are the same model class; 0.03 is about 1.5 standard errors of the paired
# per-run difference), and every seed within +-0.03 of the mean; the event-timing check warns that
# the onsets are late. Exits 77 without the data.
set -u
data="${XAI_SHARED_DIR:-../shared}/data/fmri/haxby2001_sub001"
app="${XAI_BUILD_ROOT:?}/apps/xai-fmri"
py=/usr/bin/python3
[ -x "$py" ] || py=python3
if [ ! -f "$data/run001_bold_25mm.nii.gz" ] || [ ! -f "$data/bold_1slice_allruns.nii.gz" ]; then
    echo "SKIP: the Haxby data are not in $data (shared data absent)"; exit 77
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$py" "${XAI_SOURCE_ROOT:?}/tests/haxby_baseline.py" --data "$data" --form both > "$tmp/base.json"
rc=$?
[ $rc -eq 77 ] && { cat "$tmp/base.json"; exit 77; }
[ $rc -eq 0 ] || { echo "FAIL: baseline exited $rc"; exit 1; }
runs=()
for i in $(seq -w 1 12); do runs+=(--bold "$data/run0${i}_bold_25mm.nii.gz" --events "$data/run0${i}_events.tsv"); done
fail=0
check() { # form, then the app's options
    local form=$1; shift
    local accs=()
    for seed in 1 2 3; do
        "$app" train "$@" --conditions face,house --cv -q --seed $seed -o "$tmp/m.onnx" --force > "$tmp/cv.txt" 2> "$tmp/err.txt" || {
            echo "FAIL: $form seed $seed: xai-fmri exited $?"; fail=1; return; }
        accs+=("$(sed -n 's/.*mean_accuracy=\([0-9.]*\).*/\1/p' "$tmp/cv.txt")")
        grep mean_accuracy "$tmp/cv.txt"
        # this copy's onsets are ~2 volumes late (the response is at 58-66 % of its plateau at the
        # stated onset volume): the event-timing check must say so
        grep -q "onsets in the events file appear to be late" "$tmp/err.txt" || {
            echo "FAIL: $form seed $seed: no event-timing warning"; cat "$tmp/err.txt"; fail=1; }
    done
    "$py" - "$tmp/base.json" "$form" "${accs[@]}" <<'PY' || fail=1
import json, sys
base = json.load(open(sys.argv[1]))[sys.argv[2]]
acc = [float(a) for a in sys.argv[3:]]
mean = sum(acc) / len(acc)
svc, lr = base['linear_svc']['mean'], base['logistic_regression']['mean']
print(f"{sys.argv[2]}: xai-fmri {mean:.3f} (seeds {', '.join(f'{a:.3f}' for a in acc)}); "
      f"LinearSVC {svc:.3f}, logistic regression {lr:.3f}; {base['voxels']} voxels, chance {base['chance']}")
ok = mean >= svc and mean >= lr - 0.03 and all(abs(a - mean) <= 0.03 for a in acc)
print('ok' if ok else 'FAIL: below the baseline or seeds spread more than 0.03')
sys.exit(0 if ok else 1)
PY
}
# the same voxels as the baseline: its 25 mm brain mask, every voxel of the slice
check 25mm "${runs[@]}" --mask "$data/masks_25mm/brain.nii.gz"
check slice --bold "$data/bold_1slice_allruns.nii.gz" --labels "$data/bold_1slice_allruns_labels.txt"
[ $fail -eq 0 ] && echo "2 passed, 0 failed" || echo "FAIL"
exit $fail
