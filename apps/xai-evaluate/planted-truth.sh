#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The planted-truth comparison of the README ("On the planted-truth data"): for each domain,
# generate the data with datasets/, explain the held-out part with the domain program
# (--save-input writes the model inputs), build the truth mask in the model-input layout,
# run xai-evaluate --metrics, and merge the four metrics.tsv into one report.
# Usage: planted-truth.sh BUILD_DIR WORK_DIR      (BUILD_DIR: a release build of this tree)
# Needs /usr/bin/python3 with numpy and nibabel, and espeak-ng for the speech part.
# Slow (tens of minutes on one core): every method is explained again for MPRT.
set -eu
B=$(cd "$1" && pwd); W="$2"
S=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
EV="$B/apps/xai-evaluate"
COMMON="--metrics faithfulness,localisation,randomisation,complexity --steps 18 --progress none -q --force"
mkdir -p "$W"

# EEG: runs 1-2 trained the bundled model; run 3 is held out. Truth: FC3 C3 CP3 FC4 C4 CP4.
mkdir -p "$W/eeg" && cd "$W/eeg"
"$B/datasets/gen_eeg" --seed 1 --runs 3 --trials 30 .
"$B/apps/xai-eeg" explain --model "$S/datasets/eeg/mi-shallow.onnx" --edf sub-01_task-mi_run-3_eeg.edf \
  -o lrp --save-input --no-figures -q --force
$PY - <<'EOF'
import csv, numpy as np
x = np.load("lrp/sub-01_task-mi_run-3_desc-lrp_input.npy")
names = [r["name"] for r in csv.DictReader(open("lrp/sub-01_task-mi_run-3_desc-lrp_channels.tsv"), delimiter="\t")]
m = np.zeros(x.shape[1:], np.float32)
for i, n in enumerate(names):
    m[0, i, :] = n in ("FC3", "C3", "CP3", "FC4", "C4", "CP4")
np.save("x.npy", x); np.save("truth.npy", m)
EOF
"$EV" "$S/datasets/eeg/mi-shallow.onnx" x.npy -o ev --truth truth.npy --patch 1x16 --per-step 40 \
  --road-axes 3 --fc-runs 32 --infid-runs 32 --methods lrp:epsilon-plus-flat,gradient,gradient-x-input $COMMON

# fMRI: runs 1-2 trained the bundled model; run 3 is held out. Truth: the class's ROI mask.
mkdir -p "$W/fmri" && cd "$W/fmri"
rm -rf bids && "$B/datasets/gen_fmri" --seed 1 --subjects 1 --runs 3 bids >/dev/null
D=bids/sub-01/func
"$B/apps/xai-fmri" explain --model "$S/datasets/fmri/model-cnn3d.onnx" --bold $D/sub-01_task-blocks_run-3_bold.nii.gz \
  --events $D/sub-01_task-blocks_run-3_events.tsv -o fx --save-input --no-4d -q --force
$PY - <<'EOF'
import csv, numpy as np, nibabel as nib
x = np.load("fx/sub-01/func/sub-01_task-blocks_run-3_desc-input_bold.npy")
rows = list(csv.DictReader(open("fx/sub-01/func/sub-01_task-blocks_run-3_desc-lrp_timeseries.tsv"), delimiter="\t"))
sel = [i for i, r in enumerate(rows) if r["label"] in ("faces", "houses") and r["label"] == r["prediction"]]
roi = {c: np.transpose(nib.load("bids/derivatives/truth/sub-01/func/sub-01_task-blocks_desc-%s_mask.nii.gz" % c)
                       .get_fdata(), (2, 1, 0)).astype(np.float32).reshape(x.shape[1:]) for c in ("faces", "houses")}
np.save("x.npy", x[sel]); np.save("truth.npy", np.stack([roi[rows[i]["label"]] for i in sel]))
EOF
"$EV" "$S/datasets/fmri/model-cnn3d.onnx" x.npy -o ev --truth truth.npy --patch 2x2x2 --per-step 84 \
  --methods lrp:epsilon-plus-flat,lrp:epsilon-plus,gradient,gradient-x-input,smoothgrad,integrated-gradients $COMMON

# Gait: the bundled model learnt the realistic study of datasets/gait/make_model.sh; this
# study (no nuisances, the same subjects' signatures) is new to it. The last trial of each
# of 12 subjects is explained, and its samples that the model assigns to their subject are
# scored. Truth: the subject's planted joint, plane and 20 %
# window, on each side truth.tsv names (a paired sample holds the left cycle's channels,
# then the right one's).
mkdir -p "$W/gait" && cd "$W/gait"
rm -rf study && "$B/datasets/gen_gait" --seed 1 --subjects 12 --trials 5 --cycles 6 study >/dev/null
"$B/apps/xai-gait" explain --model "$S/datasets/gait/model-subject.onnx" $(find study -name '*run-05*.c3d' | sort) \
  -o gx --save-input --no-figures -q --force --progress none
$PY - <<'EOF'
import csv, glob, json, numpy as np
V = ["PelvisAngles", "HipAngles", "KneeAngles", "AnkleAngles", "FootProgressAngles"]
truth = {r["label"]: r for r in csv.DictReader(open("study/truth.tsv"), delimiter="\t") if r["kind"] == "subject"}
xs, ms = [], []
for f in sorted(glob.glob("gx/*_desc-lrp_input.npy")):
    x = np.load(f); sub = f.split("/")[-1].split("_")[0]; r = truth[sub]
    paired = x.shape[1] == 2 * 3 * len(V)
    pred = json.load(open(f.replace("_input.npy", "_relevance.json")))["Predicted"]  # per cycle
    pred = pred[::2] if paired else pred
    m = np.zeros(x.shape[1:], np.float32)
    ch, t0, t1 = V.index(r["variable"]) * 3 + int(r["component"]), int(r["pct_start"]), int(r["pct_end"]) + 1
    for k, side in enumerate(("Left", "Right") if paired else ("",)):
        if not paired or side in r.get("sides", "Left,Right").split(","):
            m[k * 3 * len(V) + ch, t0:t1] = 1
    keep = [i for i in range(len(x)) if pred[i] == sub]
    xs.append(x[keep]); ms += [m] * len(keep)
np.save("x.npy", np.concatenate(xs)); np.save("truth.npy", np.stack(ms))
EOF
"$EV" "$S/datasets/gait/model-subject.onnx" x.npy -o ev --truth truth.npy --patch 1x5 --per-step 16 --road-axes 2 \
  --methods lrp:epsilon-plus,lrp:epsilon-plus-flat,gradient,gradient-x-input,smoothgrad,integrated-gradients $COMMON

# Speech: the bundled models never saw a planted tone, so (as tests/test-xai-speech.sh) a small
# CNN learns digits 0-2 with a 1500 Hz tone on every "1" from four voices; the "1" clips of
# four other voices are held out. Truth: the mel rows within 150 Hz of 1500 Hz.
mkdir -p "$W/speech" && cd "$W/speech"
G="$B/datasets/gen_speech"; A="$B/apps/xai-speech"
rm -rf train test
"$G" --voices m1,m3,f2,f4 --speeds 140,180 --pitches 40,60 --digits 3 --planted-class 1 --seed 3 train >/dev/null
"$G" --voices m2,m4,f1,f3 --speeds 140,180 --pitches 40,60 --digits 3 --planted-class 1 --seed 5 test >/dev/null
"$A" train train --labels digit --epochs 30 --seed 1 --lr 3e-3 -q --force -o m.onnx
"$A" explain --model m.onnx test/1_*.wav --target 1 --stacked --save-input --no-figures -q --force -o sx
$PY - <<'EOF'
import json, numpy as np
x = np.load("sx/input.npy"); hz = np.array(json.load(open("sx/relevance.json"))["RowCentreHz"])
m = np.zeros(x.shape, np.float32); m[:, np.abs(hz - 1500) <= 150, :] = 1
np.save("x.npy", x[:, None]); np.save("truth.npy", m[:, None])
EOF
"$EV" m.onnx x.npy -o ev --truth truth.npy --class 1 --patch 1x2x3 --per-step 21 \
  --methods lrp:epsilon-plus-flat,lrp:epsilon-plus,gradient,gradient-x-input,smoothgrad,integrated-gradients $COMMON

cd "$W"
"$EV" report eeg/ev/metrics.tsv fmri/ev/metrics.tsv gait/ev/metrics.tsv speech/ev/metrics.tsv -o report --force
echo "report: $W/report/report.tsv and report.png"
