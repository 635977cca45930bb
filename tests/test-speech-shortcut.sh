#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The shortcut criterion of the speech models, measured as datasets/speech/README.md reports
# it: the realistic set (8 voices, a 2000 Hz tone in 0.1-0.3 s on 90 % of the "7"s of every
# voice but the test voices m4, f4), xai-speech train with its defaults (the refit included) on
# m1, f1, m2, f2 and m3, the held-out accuracy on m4 and f4, and the share of positive relevance
# in the tone's box on the tone "7"s of f3, a speaker no model saw. The same clips without the
# tone (the generator with --shortcut-frac 0 draws everything else identically) show whether the
# model uses the tone at all: the criterion applies only when it does.
# Exit: 0 share >= 0.25; 1 share below;
# 77 skip (no espeak-ng or numpy, or the model does not use the tone); 99 anything else wrong.
# Usage: test-speech-shortcut.sh GEN_SPEECH XAI_SPEECH
set -u
GEN="$1"
APP="$2"
PY=/usr/bin/python3
command -v espeak-ng >/dev/null 2>&1 || { echo "espeak-ng missing: skip"; exit 77; }
$PY -c 'import numpy' 2>/dev/null || { echo "numpy missing: skip"; exit 77; }
T=$(mktemp -d /tmp/xai-speech-shortcut-XXXXXX)
trap 'rm -rf "$T"' EXIT
die() { echo "ERROR: $*"; exit 99; }
# voices interleaved so that the last two (the test voices) are one man and one woman
SET="--nuisance realistic --seed 1 --length 1 --voices m1,f1,m2,f2,m3,f3,m4,f4 --speeds 140,180 --pitches 40,60
  --shortcut-class 7 --test-voices 2"
# shellcheck disable=SC2086
"$GEN" $SET "$T/real" >/dev/null || die "generator"
# shellcheck disable=SC2086
"$GEN" $SET --shortcut-frac 0 "$T/plain" >/dev/null || die "generator (no tone)"
mkdir "$T/tr" "$T/ho" "$T/sc" "$T/sc0"
for f in "$T/real"/*.wav; do
  b=$(basename "$f")
  case $(echo "$b" | cut -d_ -f2) in m4|f4) ln -s "$f" "$T/ho/$b" ;; f3) ;; *) ln -s "$f" "$T/tr/$b" ;; esac
done
awk -F, '$4 == "f3" && $2 == 7 && $8 == 1 {print $1}' "$T/real/labels.csv" | while read -r b; do
  ln -s "$T/real/$b" "$T/sc/$b"
  ln -s "$T/plain/$b" "$T/sc0/$b"
done
"$APP" train "$T/tr" --labels digit -q -o "$T/m.onnx" || die "train"
"$APP" eval --model "$T/m.onnx" "$T/ho" --labels digit --json "$T/eval.json" -q >/dev/null || die "eval"
"$APP" explain --model "$T/m.onnx" "$T/sc" --target 7 --stacked --no-figures -o "$T/x-default" -q || die "explain"
"$APP" explain --model "$T/m.onnx" "$T/sc" --target 7 --start logodds --composite epsilon-plus --stacked --no-figures \
  -o "$T/x-logodds" -q || die "explain"
"$APP" explain --model "$T/m.onnx" "$T/sc0" --target 7 --stacked --no-figures -o "$T/x0" -q || die "explain"
$PY - "$T" <<'PYEOF'
import json, sys
import numpy as np
T = sys.argv[1]
e = json.load(open(T + "/eval.json"))
print(f"held-out speakers m4, f4: accuracy {e['accuracy']:.3f} [{e['ci95'][0]:.3f}, {e['ci95'][1]:.3f}], "
      f"chance {e['chance_level']:.3f}")
if not e["ci95"][0] > e["chance_level"]:
    sys.exit(99)
def log_odds(d):
    z = np.array([c["Logits"] for c in json.load(open(d + "/relevance.json"))["Clips"]])
    o = np.delete(z, 7, axis=1)
    m = o.max(1)
    return z[:, 7] - (m + np.log(np.exp(o - m[:, None]).sum(1)))
with_tone, without = log_odds(T + "/x-default"), log_odds(T + "/x0")
drop = float(np.mean(with_tone - without))
print(f"log-odds of '7' on the {len(with_tone)} tone clips of f3: {np.mean(with_tone):.2f} with the tone, "
      f"{np.mean(without):.2f} without (the model uses the tone: drop {drop:.2f})")
if drop < 0.5:
    print("the model does not use the tone: the criterion does not apply; skip")
    sys.exit(77)
def share(d):
    R, j = np.load(d + "/relevance.npy"), json.load(open(d + "/relevance.json"))
    hz = np.array(j["RowCentreHz"])
    edges = np.concatenate([[0.0], hz, [4000.0]])
    rows = (edges[:-2] < 2062.5) & (edges[2:] > 1937.5)  # mel rows overlapping 2000 +- 2 STFT bins
    out = []
    for i, c in enumerate(j["Clips"]):
        ts = np.array(j["WindowFrameCentreS"]) - c["ClipStartSample"] / 8000
        cols = (ts > 0.1 - 0.016) & (ts < 0.3 + 0.016)  # frames whose 32 ms window meets 0.1-0.3 s
        p = np.clip(R[i], 0, None)
        out.append(p[np.ix_(rows, cols)].sum() / max(p.sum(), 1e-30))
    return float(np.mean(out)), rows.sum() * cols.sum() / R[0].size
s, area = share(T + "/x-default")
s2, _ = share(T + "/x-logodds")
s0, _ = share(T + "/x0")
print(f"tone box ({area:.3f} of the bins): {s:.3f} of the positive relevance (the defaults), "
      f"{s2:.3f} with --start logodds --composite epsilon-plus; {s0:.3f} on the same clips without the tone; "
      f"criterion >= 0.25 (the defaults)")
sys.exit(0 if s >= 0.25 else 1)
PYEOF
