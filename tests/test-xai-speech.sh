#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# xai-speech end to end: synthesise a small planted-band set with espeak-ng (gen_speech),
# train a small CNN, explain, and check that relevance finds the planted 1500 Hz tone (LRP
# and gradient numbers printed), the figure, the sidecars, the sonification (rate, length,
# energy at the tone), eval, and the error paths (bad audio, model/preset mismatch, model
# without a pipeline, refusal to overwrite, partial batches exit 3, usage errors).
# Usage: test-xai-speech.sh GEN_SPEECH XAI_SPEECH [XAI_SPRAY]   (skips, exit 77, without espeak-ng or numpy)
set -u
GEN="$1"
APP="$2"
SPRAY="${3:-}"
PY=/usr/bin/python3
SRC="${XAI_SOURCE_ROOT:-}"
command -v espeak-ng >/dev/null 2>&1 || { echo "espeak-ng missing: skip"; exit 77; }
$PY -c 'import numpy' 2>/dev/null || { echo "numpy missing: skip"; exit 77; }
T=$(mktemp -d /tmp/xai-speech-test-XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect() { # expect CODE WORDS command...
  want=$1; words=$2; shift 2
  "$@" >"$T/out" 2>"$T/err"; rc=$?
  if [ "$rc" -ne "$want" ]; then bad "exit $rc (want $want): $*"; cat "$T/err"; return; fi
  if [ -n "$words" ] && ! grep -q -- "$words" "$T/err"; then bad "stderr lacks '$words': $*"; cat "$T/err"; return; fi
  ok
}

# --- data: 3 digits x 4 voices x 2 speeds x 2 pitches = 48 clips; digit 1 carries a 1500 Hz tone
expect 0 "" "$GEN" --voices m1,m3,f2,f4 --speeds 140,180 --pitches 40,60 --digits 3 --planted-class 1 \
  --planted-hz 1500 --seed 3 "$T/data"
n=$(ls "$T/data"/*.wav | wc -l)
[ "$n" -eq 48 ] && ok || bad "generator wrote $n clips, want 48"
grep -q '^1_m1s140p40_0.wav,1,male,m1s140p40,en-us+m1,140,40,1$' "$T/data/labels.csv" && ok || bad "labels.csv row"

# --- usage
expect 0 "" "$APP" --help
grep -q "SYNOPSIS" "$T/out" && grep -q -- "--sonify" "$T/out" && grep -q -- "--force" "$T/out" && ok || bad "--help text"
# the hold-out's fraction is the one train uses (0.2 of the speakers), in both places it is shown
grep -q "\[hold-out of 0.2 of the groups\]" "$T/out" && grep -A1 -- "--val-split F" "$T/out" | grep -q "\[0.2\]" \
  && ! grep -q "quarter" "$T/out" && ok || bad "--help: hold-out fraction"
expect 2 "--val-split: invalid value '0'" "$APP" train "$T/data" --labels digit --val-split 0 -o "$T/v.onnx"
expect 2 "unknown command" "$APP" frobnicate
expect 2 "need inputs" "$APP" train -o "$T/m.onnx"
expect 2 "preset" "$APP" train "$T/data" --labels digit --preset nosuch -o "$T/m.onnx"
expect 2 "sonify" "$APP" explain --model "$T/m.onnx" "$T/data" -o "$T/x" --sonify "$T/x.wav"

# --- train (small CNN, few epochs)
# (validation by clip, as before speakers were held out by default: the planted-band checks below
# are about relevance within these voices; the held-out speaker checks are further down)
expect 0 "" "$APP" train "$T/data" --no-refit --labels digit --epochs 30 --seed 1 --lr 3e-3 --split-by clip -q -o "$T/m.onnx"
[ -s "$T/m.onnx" ] && [ -s "$T/m.json" ] && ok || bad "model or its sidecar missing"
expect 2 "exists" "$APP" train "$T/data" --labels digit --epochs 1 -q -o "$T/m.onnx"
$PY - "$T/m.onnx" "$T/m.json" <<'PYEOF' && ok || bad "model metadata / sidecar"
import json, sys
j = json.load(open(sys.argv[2]))
assert j["Classes"] == ["0", "1", "2"], j["Classes"]
assert j["Clips"] == 48 and j["Preprocessing"]["preset"] == "compact"
assert j["Preprocessing"]["input_shape"] == [1, 40, 63]
assert "CommandLine" in j and "Version" in j and "DateTime" in j
# the pipeline and the class names travel in the model card (older models: metadata keys
# xai_preprocessing and class_names, read below through the bundled model)
import onnx
c = json.loads({p.key: p.value for p in onnx.load(sys.argv[1]).metadata_props}["libxai.card"])
assert c["classes"] == ["0", "1", "2"] and c["preprocessing"]["input_shape"] == [1, 40, 63], c
PYEOF
# (tests/data/onnx/speech-legacy-gender.onnx: the bundled gender model as it was before the card)
if [ -n "$SRC" ] && [ -f "$SRC/tests/data/onnx/speech-legacy-gender.onnx" ]; then
  expect 0 "" "$APP" eval --model "$SRC/tests/data/onnx/speech-legacy-gender.onnx" "$T/data" --labels gender -q
  grep -q "^accuracy" "$T/out" && ok || bad "a model with the older metadata keys"
fi
if [ -n "$SRC" ] && [ -f "$SRC/datasets/speech/model-digits.onnx" ]; then
  expect 0 "" "$APP" eval --model "$SRC/datasets/speech/model-digits.onnx" "$T/data" --labels digit -q
  grep -q "^accuracy" "$T/out" && ok || bad "the bundled digits model"
fi

# --- gender labels from labels.csv
expect 0 "" "$APP" train "$T/data" --no-refit --labels gender --epochs 2 -q -o "$T/g.onnx"
# the defaults --help shows are those a train without the options ran with (its card)
"$APP" --help > "$T/help.txt" 2>&1
$PY - "$T/help.txt" "$T/g.json" <<'PYEOF' && ok || bad "--help defaults against the card of a default train"
import json, math, re, sys
help = open(sys.argv[1]).read()
card = json.load(open(sys.argv[2]))
def shown(opt):
    m = re.search(r"^  " + re.escape(opt) + r"(?=\s).*?\[([^\]]*)\]$", help, re.M | re.S)
    assert m, opt
    return m.group(1)
t = card["training"]
same = lambda a, b: math.isclose(float(a), b, rel_tol=1e-6, abs_tol=1e-12) # the card holds float32
assert same(shown("--lr R"), t["lr"]), (shown("--lr R"), t["lr"])
assert same(shown("--weight-decay W"), t["weight_decay"])
assert int(shown("--batch N")) == t["batch"] and int(shown("--patience N")) == t["patience"]
assert shown("--schedule none|cosine") == t["lr_schedule"]
assert shown("--augment none|shift|mask") == card["Augmentation"], card["Augmentation"]
PYEOF
grep -q '"female"' "$T/g.json" && grep -q '"male"' "$T/g.json" && ok || bad "gender classes"

# --- time-shift and masking augmentation: recorded in the card and the sidecar; a bad value is
# a usage error (one epoch each: the runs check the records, not the training)
for kind in none shift mask; do
  expect 0 "" "$APP" train "$T/data" --no-refit --labels digit --augment $kind --epochs 1 -q -o "$T/aug-$kind.onnx"
  $PY - "$T/aug-$kind.onnx" "$T/aug-$kind.json" $kind <<'PYEOF' && ok || bad "augmentation $kind in the card"
import json, sys
import onnx
c = json.loads({p.key: p.value for p in onnx.load(sys.argv[1]).metadata_props}["libxai.card"])
assert c["training"]["augment_copies"] == (0 if sys.argv[3] == "none" else 1), c["training"]
assert json.load(open(sys.argv[2]))["Augmentation"] == sys.argv[3]
PYEOF
done
expect 2 "--augment: invalid value 'flip'" "$APP" train "$T/data" --labels digit --augment flip -o "$T/aug2.onnx"

# --- band normalisation and the mel count: in the card's pre-processing record, which explain
# follows (the map has the model's 48 rows; its z-box bounds are -1..1); bad values are usage errors
expect 0 "" "$APP" train "$T/data" --no-refit --labels digit --norm cmn --mels 48 --epochs 2 -q -o "$T/cmn.onnx"
expect 0 "" "$APP" explain --model "$T/cmn.onnx" "$T/data/1_f2s140p60_0.wav" --no-figures -o "$T/cmn" -q
$PY - "$T/cmn.onnx" "$T/cmn/1_f2s140p60_0_relevance.npy" <<'PYEOF' && ok || bad "--norm cmn --mels 48 in the card"
import json, sys
import numpy as np
import onnx
c = json.loads({p.key: p.value for p in onnx.load(sys.argv[1]).metadata_props}["libxai.card"])
pre = c["preprocessing"]
assert pre["normalise"] == "db_rel_max_80_cmn" and pre["n_mels"] == 48 and pre["input_shape"] == [1, 48, 63], pre
r = np.load(sys.argv[2])
assert r.shape == (48, 63) and np.isfinite(r).all() and np.abs(r).sum() > 0, r.shape
PYEOF
expect 0 "" "$APP" train "$T/data" --no-refit --labels digit --norm pcen --epochs 1 -q -o "$T/pcen.onnx"
grep -q '"normalise": "pcen_rel_max_80"' "$T/pcen.json" && ok || bad "--norm pcen in the sidecar's record"
expect 2 "--norm: invalid value 'cms'" "$APP" train "$T/data" --labels digit --norm cms -o "$T/n2.onnx"
expect 2 "--mels: invalid value '0'" "$APP" train "$T/data" --labels digit --mels 0 -o "$T/n2.onnx"
expect 2 "--mels: preset 'audiomnist' has no mel bands" "$APP" train "$T/data" --labels digit --preset audiomnist \
  --mels 40 -o "$T/n2.onnx"

# --- labels from a CSV column; an unlabelled file is reported and skipped (exit 3)
expect 0 "" "$APP" train "$T/data" --no-refit --labels "$T/data/labels.csv" --label-column gender --epochs 1 -q -o "$T/c.onnx"
grep -q '"female"' "$T/c.json" && ok || bad "CSV labels"
mkdir -p "$T/mixed"
# (two speakers, so that a speaker can be held out and the other one still trains)
cp "$T/data"/0_m1s140p40_0.wav "$T/data"/1_m1s140p40_0.wav "$T/data"/0_f2s140p60_0.wav "$T/data"/1_f2s140p60_0.wav \
  "$T/mixed/"
cp "$T/data"/2_m1s140p40_0.wav "$T/mixed/unnamed.wav"
expect 3 "unnamed.wav: no digit label" "$APP" train "$T/mixed" --no-refit --labels digit --epochs 1 -q -o "$T/mx.onnx"
grep -q '"UnlabelledFiles": 1' "$T/mx.json" && ok || bad "UnlabelledFiles in the sidecar"

# --- eval on the training set (it must have learnt it)
expect 0 "" "$APP" eval --model "$T/m.onnx" "$T/data" --labels digit --json "$T/eval.json" -q
$PY -c "import json,sys; j=json.load(open('$T/eval.json')); sys.exit(0 if j['clips']==48 and j['accuracy']>=0.8 else 1)" \
  && ok || { bad "eval accuracy"; cat "$T/eval.json"; }

# --- explain the planted class with LRP and with the gradient
expect 0 "" "$APP" explain --model "$T/m.onnx" "$T/data"/1_*.wav --target 1 -o "$T/lrp" -q
expect 0 "" "$APP" explain --model "$T/m.onnx" "$T/data"/1_*.wav --target 1 --method gradient --no-figures \
  -o "$T/grad" -q
expect 0 "" "$APP" explain --model "$T/m.onnx" "$T/data"/2_*.wav --target 2 --stacked --no-figures -o "$T/ctl" -q
$PY - "$T/lrp" "$T/grad" "$T/ctl" <<'PYEOF' && ok || bad "planted band"
import glob, json, os, sys
import numpy as np
def band_stats(d, absval):
    files = sorted(glob.glob(os.path.join(d, "*_relevance.npy")))
    assert len(files) == 16, len(files)
    fr, hit = [], 0
    for f in files:
        r = np.load(f)
        assert r.shape == (40, 63) and r.dtype == np.float32
        j = json.load(open(f[:-4] + ".json"))
        hz = np.array(j["RowCentreHz"])
        band = np.abs(hz - 1500) <= 150          # the mel rows around the tone (3 of 40)
        v = np.abs(r) if absval else np.clip(r, 0, None)
        row = v.sum(axis=1)
        fr.append(row[band].sum() / max(row.sum(), 1e-30))
        hit += bool(band[np.argmax(row)])
    return float(np.mean(fr)), hit / len(files), int(band.sum())
lf, lh, nb = band_stats(sys.argv[1], False)
gf, gh, _ = band_stats(sys.argv[2], True)
# control: clips of digit 2 (no tone) explained for their own class, stacked output
r = np.load(sys.argv[3] + "/relevance.npy")
hz = np.array(json.load(open(sys.argv[3] + "/relevance.json"))["RowCentreHz"])
band = np.abs(hz - 1500) <= 150
row = np.clip(r, 0, None).sum(axis=2)
cf = float(np.mean(row[:, band].sum(1) / np.maximum(row.sum(1), 1e-30)))
print(f"planted 1500 Hz band ({nb} of 40 mel rows = {nb/40:.3f} of the rows): "
      f"LRP positive-relevance fraction {lf:.3f}, top row in band {lh:.2f}; "
      f"|gradient| fraction {gf:.3f}, top row in band {gh:.2f}; control clips (no tone) LRP fraction {cf:.3f}")
# threshold: at least 3x the band's share of rows, and the top row in the band for most clips
assert lf >= 3 * nb / 40, lf
assert lh >= 0.75, lh
assert cf < lf / 2, (cf, lf)
PYEOF
for f in "$T/lrp/1_m1s140p40_0_overlay.png" "$T/lrp/1_m1s140p40_0_overlay.json" "$T/lrp/predictions.tsv"; do
  [ -s "$f" ] && ok || bad "missing $f"
done
head -c 8 "$T/lrp/1_m1s140p40_0_overlay.png" | od -An -tx1 | grep -q "89 50 4e 47 0d 0a 1a 0a" && ok || bad "PNG magic"
$PY - "$T/lrp" <<'PYEOF' && ok || bad "sidecar content"
import json, sys
j = json.load(open(sys.argv[1] + "/1_m1s140p40_0_relevance.json"))
for k in ("Method", "Composite", "Target", "Logits", "ModelSHA256", "SourceSHA256", "Preprocessing",
          "RowCentreHz", "FrameCentreS", "CommandLine", "Version", "DateTime"):
    assert k in j, k
assert j["Method"] == "lrp" and j["Target"] == 1 and len(j["RowCentreHz"]) == 40 and len(j["FrameCentreS"]) == 63
assert len(j["ModelSHA256"]) == 64 and len(j["SourceSHA256"]) == 64
PYEOF
[ "$(wc -l <"$T/lrp/predictions.tsv")" -eq 17 ] && ok || bad "predictions.tsv rows"

# --- --stacked: one [clips][rows][frames] array equal to the per-clip files, one sidecar
expect 0 "" "$APP" explain --model "$T/m.onnx" "$T/data"/1_*.wav --target 1 --stacked --no-figures -o "$T/stk" -q
$PY - "$T/stk" "$T/lrp" <<'PYEOF' && ok || bad "stacked output"
import json, os, sys
import numpy as np
r = np.load(sys.argv[1] + "/relevance.npy")
j = json.load(open(sys.argv[1] + "/relevance.json"))
assert r.shape == (16, 40, 63), r.shape
assert len(j["Clips"]) == 16 and j["Method"] == "lrp"
for i, c in enumerate(j["Clips"]):
    stem = os.path.basename(c["Source"])[:-4]
    q = np.load(f"{sys.argv[2]}/{stem}_relevance.npy")
    assert np.array_equal(q, r[i]), stem
    assert abs(c["RelevanceSum"] - float(r[i].sum())) < 1e-4 * max(1.0, abs(c["RelevanceSum"]))
PYEOF
[ ! -e "$T/stk/1_m1s140p40_0_relevance.npy" ] && ok || bad "--stacked wrote per-clip files"

# --- --root-point: floor (the default) credits a bin only with its excess over its band's floor,
# the 20th percentile of the band over the clip's frames (np.quantile's interpolation in double,
# as GSL's): the bins at or below it get exactly 0; silence credits them too. The sidecar records it.
expect 0 "" "$APP" explain --model "$T/m.onnx" "$T/data"/1_*.wav --target 1 --stacked --save-input --no-figures \
  -o "$T/rpf" -q
expect 0 "" "$APP" explain --model "$T/m.onnx" "$T/data"/1_*.wav --target 1 --stacked --root-point silence \
  --no-figures -o "$T/rps" -q
expect 0 "" "$APP" explain --model "$T/m.onnx" "$T/data"/1_*.wav --target 1 --stacked --root-point floor:0.5 \
  --no-figures -o "$T/rp5" -q
$PY - "$T/rpf" "$T/rps" "$T/rp5" <<'PYEOF' && ok || bad "--root-point floor: no relevance below the band floor"
import json, sys
import numpy as np
x = np.load(sys.argv[1] + "/input.npy")
for d, q, name in ((sys.argv[1], 0.2, "floor:0.2"), (sys.argv[3], 0.5, "floor:0.5"), (sys.argv[2], None, "silence")):
    r = np.load(d + "/relevance.npy")
    assert json.load(open(d + "/relevance.json"))["RootPoint"] == name, d
    below = x <= np.quantile(x.astype(np.float64), q or 0.2, axis=2, keepdims=True).astype(np.float32)
    assert below.sum() >= (q or 0.2) * x.size, (name, below.sum())
    if q is None:
        assert (r[below] != 0).mean() > 0.5, (r[below] != 0).mean()
        continue
    assert (r[below] == 0).all(), (name, np.abs(r[below]).max())
    assert (r[~below] != 0).mean() > 0.5, (name, (r[~below] != 0).mean())
PYEOF
C1="$T/data/1_f2s140p60_0.wav"
expect 2 "--root-point: invalid value 'floor:2'" "$APP" explain --model "$T/m.onnx" "$C1" --root-point floor:2 -o "$T/rpx"
expect 2 "--root-point: invalid value 'ground'" "$APP" explain --model "$T/m.onnx" "$C1" --root-point ground -o "$T/rpx"
expect 2 "--root-point is for explain and evaluate" "$APP" train "$T/data" --labels digit --root-point silence \
  -o "$T/rpx.onnx"
expect 2 "add --root-point silence" "$APP" evaluate --model "$T/m.onnx" "$C1" --metrics max-sensitivity -o "$T/rpx.tsv"
expect 0 "" "$APP" evaluate --model "$T/m.onnx" "$C1" --metrics max-sensitivity --root-point silence -o "$T/rpx.tsv" -q
# a composite without z-box reads no root point: the sidecar says so, a given one is warned about,
# and the sensitivity metrics need no --root-point silence
expect 0 "" "$APP" explain --model "$T/m.onnx" "$C1" --composite epsilon-plus --stacked --no-figures -o "$T/rpn"
expect 0 "--root-point has no effect" "$APP" explain --model "$T/m.onnx" "$C1" --composite epsilon-plus \
  --root-point floor:0.5 --stacked --no-figures -o "$T/rpn5"
$PY - "$T/rpn" "$T/rpn5" <<'PYEOF' && ok || bad "--root-point without a z-box layer"
import json, sys
import numpy as np
a, b = (json.load(open(d + "/relevance.json")) for d in sys.argv[1:])
assert a["RootPoint"] == b["RootPoint"] == "none (no z-box layer)", (a["RootPoint"], b["RootPoint"])
assert np.array_equal(np.load(sys.argv[1] + "/relevance.npy"), np.load(sys.argv[2] + "/relevance.npy"))
PYEOF
expect 0 "" "$APP" evaluate --model "$T/m.onnx" "$C1" --composite epsilon-plus --metrics max-sensitivity \
  -o "$T/rpx2.tsv" -q
# SpRAy over the stack with int64 labels as NumPy writes them by default
if [ -n "$SPRAY" ]; then
  $PY -c "import numpy as np; np.save('$T/stk/y.npy', np.array([0] * 8 + [1] * 8, dtype=np.int64))"
  expect 0 "" "$SPRAY" "$T/stk/relevance.npy" --labels "$T/stk/y.npy" --pool 8x8 --knn 3 -o "$T/spray" -q
  [ "$(wc -l <"$T/spray/ranking.tsv")" -eq 3 ] && ok || bad "spray ranking with int64 labels"
  $PY -c "import numpy as np; np.save('$T/stk/yf.npy', np.array([0.5] * 16))"
  expect 1 "not an integer" "$SPRAY" "$T/stk/relevance.npy" --labels "$T/stk/yf.npy" -o "$T/spray2" -q
fi

# --- sonify: rate, length, and the masked audio keeps the planted tone
C="$T/data/1_f2s140p60_0.wav"
expect 0 "" "$APP" explain --model "$T/m.onnx" "$C" --target 1 -o "$T/son" --sonify "$T/son/used.wav" -q
[ -s "$T/son/used.json" ] && ok || bad "sonify sidecar"
$PY - "$C" "$T/son/used.wav" <<'PYEOF' && ok || bad "sonify output"
import sys
import numpy as np
def read(p):
    import warnings
    import scipy.io.wavfile as w
    warnings.simplefilter("ignore")
    sr, x = w.read(p)
    return sr, (x / 32768.0 if x.dtype == np.int16 else x.astype(np.float64))
sr0, x = read(sys.argv[1])
sr1, y = read(sys.argv[2])
assert sr0 == sr1 == 8000, (sr0, sr1)
assert len(x) == len(y), (len(x), len(y))
def tone_share(s):
    S = np.abs(np.fft.rfft(s)) ** 2
    f = np.fft.rfftfreq(len(s), 1 / 8000)
    return S[np.abs(f - 1500) < 60].sum() / S.sum()
a, b = tone_share(x), tone_share(y)
print(f"sonify: share of energy within 60 Hz of the tone: input {a:.3f}, sonified {b:.3f}")
assert b > a and np.abs(y).max() > 0
PYEOF

# --- a stereo file is mixed to mono: same relevance as the mono clip
$PY - "$C" "$T/stereo.wav" <<'PYEOF' && ok || bad "write stereo"
import sys, warnings
import numpy as np
import scipy.io.wavfile as w
warnings.simplefilter("ignore")
sr, x = w.read(sys.argv[1])
w.write(sys.argv[2], sr, np.stack([x, x], axis=1))
PYEOF
expect 0 "" "$APP" explain --model "$T/m.onnx" "$T/stereo.wav" --target 1 --no-figures -o "$T/st" -q
$PY -c "import numpy as np,sys; a=np.load('$T/st/stereo_relevance.npy'); b=np.load('$T/son/1_f2s140p60_0_relevance.npy'); sys.exit(0 if np.allclose(a,b,rtol=1e-5,atol=1e-7) else 1)" \
  && ok || bad "stereo vs mono relevance"

# --- the other presets end to end (1 epoch): shapes, and the sonification at the pipeline rate
for p in audiomnist:227:227:8000 librosa:128:44:22050 torchaudio:128:81:16000; do
  name=${p%%:*}
  expect 0 "" "$APP" train "$T/data" --no-refit --labels digit --preset "$name" --epochs 1 -q -o "$T/p-$name.onnx"
  expect 0 "" "$APP" explain --model "$T/p-$name.onnx" "$C" --preset "$name" -o "$T/p-$name" \
    --sonify "$T/p-$name/s.wav" -q
  $PY - "$T/p-$name" "$C" "$p" <<'PYEOF' && ok || bad "preset $name"
import sys, warnings
import numpy as np
import scipy.io.wavfile as w
warnings.simplefilter("ignore")
_, rows, frames, rate = sys.argv[3].split(":")
r = np.load(sys.argv[1] + "/1_f2s140p60_0_relevance.npy")
assert r.shape == (int(rows), int(frames)), r.shape
sr0, x = w.read(sys.argv[2])
sr, y = w.read(sys.argv[1] + "/s.wav")
assert sr == int(rate), sr
assert len(y) == round(len(x) * sr / sr0), (len(y), len(x))
assert np.isfinite(y).all() and np.abs(y).max() > 0
PYEOF
done

# --- errors
printf 'this is not audio' >"$T/bad.wav"
expect 1 "bad.wav" "$APP" explain --model "$T/m.onnx" "$T/bad.wav" -o "$T/e1" -q
[ ! -e "$T/e1/bad_relevance.npy" ] && [ ! -e "$T/e1/predictions.tsv" ] && ok || bad "partial output after bad audio"
expect 3 "bad.wav" "$APP" explain --model "$T/m.onnx" "$T/bad.wav" "$T/data/0_m1s140p40_0.wav" -o "$T/e2" -q
[ -s "$T/e2/0_m1s140p40_0_relevance.npy" ] && ok || bad "good clip of a partial batch"
expect 1 "preset 'compact', not 'librosa'" "$APP" explain --model "$T/m.onnx" "$C" --preset librosa -o "$T/e3" -q
if [ -n "$SRC" ] && [ -f "$SRC/datasets/example/model.onnx" ]; then
  expect 1 "xai_preprocessing" "$APP" explain --model "$SRC/datasets/example/model.onnx" "$C" -o "$T/e4" -q
fi
expect 2 "exists" "$APP" explain --model "$T/m.onnx" "$C" --target 1 -o "$T/son" --sonify "$T/son/used.wav" -q
expect 0 "" "$APP" explain --model "$T/m.onnx" "$C" --target 1 -o "$T/son" --sonify "$T/son/used.wav" -q --force
expect 2 "target" "$APP" explain --model "$T/m.onnx" "$C" --target 7 -o "$T/e5" -q
expect 1 "" "$APP" explain --model "$T/nosuch.onnx" "$C" -o "$T/e6" -q
# a tampered pipeline record is refused with a clear message
$PY - "$T/m.onnx" "$T/tampered.onnx" <<'PYEOF' && ok || bad "tamper"
import sys
raw = open(sys.argv[1], "rb").read()
i = raw.index(b'"n_mels":40')
open(sys.argv[2], "wb").write(raw[:i] + b'"n_mels":41' + raw[i + 11:])
PYEOF
expect 1 "xai_preprocessing" "$APP" explain --model "$T/tampered.onnx" "$C" -o "$T/e7" -q

# --- option errors name the option, not the value
expect 2 "--lr: invalid value '0'" "$APP" train "$T/data" --labels digit --lr 0 -o "$T/o.onnx"
expect 2 "--epochs: invalid value '0'" "$APP" train "$T/data" --labels digit --epochs=0 -o "$T/o.onnx"
expect 2 "--split-by: invalid value 'session'" "$APP" train "$T/data" --labels digit --split-by session -o "$T/o.onnx"

# --- maps on the file's time axis: the clip is centred in the 1 s window after ClipStartSample
# samples of padding, so frame j (hop 128, centred frames) is at (128 j - start) / 8000 s
$PY - "$T/lrp" "$T/stk" <<'PYEOF' && ok || bad "file time axis"
import json, sys
j = json.load(open(sys.argv[1] + "/1_m1s140p40_0_relevance.json"))
s0, ts = j["ClipStartSample"], j["FrameCentreS"]
assert s0 > 0, s0  # the synthetic clips are shorter than the window
for k in (0, 10, 62):
    assert abs(ts[k] - (128 * k - s0) / 8000) < 1e-9, (k, ts[k], s0)
k = json.load(open(sys.argv[2] + "/relevance.json"))
assert abs(k["WindowFrameCentreS"][10] - 0.16) < 1e-9
for c in k["Clips"]:
    assert abs(c["FirstFrameCentreS"] + c["ClipStartSample"] / 8000) < 1e-9, c
PYEOF

# --- the default validation holds out whole speakers; training prints it and the card records it
expect 0 "validation: grouped-holdout over 16 speakers" "$APP" train "$T/data" --labels digit --epochs 3 --seed 1 \
  -o "$T/spk.onnx"
grep -q "network:  accuracy [0-9.]* \[[0-9.]*, [0-9.]*\]" "$T/err" && grep -q "baseline: ridge accuracy" "$T/err" && ok \
  || bad "held-out summary"
$PY - "$T/spk.onnx" <<'PYEOF' && ok || bad "card validation"
import json, sys
import onnx
m = onnx.load(sys.argv[1])
c = json.loads({p.key: p.value for p in m.metadata_props}["libxai.card"])
v = c["validation"]
assert v["scheme"] == "grouped-holdout" and v["group_kind"] == "speaker", v
# 16 speakers (voice x speed x pitch in labels.csv), a fifth of them held out: 3 speakers, 9 clips
assert v["n_groups"] == 16 and v["n_heldout"] == 9, v
assert 0 <= v["ci95"][0] <= v["accuracy"] <= v["ci95"][1] <= 1, v
assert v["baseline"]["name"] == "ridge" and 0 <= v["baseline"]["accuracy"] <= 1, v
assert c["domain"] == "speech" and c["classes"] == ["0", "1", "2"], c
assert c["preprocessing"]["preset"] == "compact" and c["training"]["split_by"] == "speaker", c
assert c["training"]["augment_copies"] == 1, c["training"]  # time shifts are the default
PYEOF
$PY - "$T/spk.onnx" "$T/err" <<'PYEOF' && ok || bad "summary: how many speakers were held out, named as the card records them"
import json, sys
import onnx
m = onnx.load(sys.argv[1])
c = json.loads({p.key: p.value for p in m.metadata_props}["libxai.card"])
held = c["extra"]["driver"]["folds"][0]["heldout_groups"]
want = "held out %d of 16 speakers (%s), trained on %d\n" % (len(held), ", ".join(held), 16 - len(held))
err = open(sys.argv[2]).read()
assert len(held) == 3 and want in err, (want, err)
PYEOF
# --- the refit (the default): after the hold-out, MODEL.onnx trains on every speaker and the
# hold-out's model stays as MODEL.fold-1.onnx, which explains the held-out speakers; --no-refit
# (same seed: the same hold-out) keeps the hold-out's model as MODEL.onnx and writes no fold file
expect 0 "" "$APP" train "$T/data" --labels digit --epochs 3 --seed 1 --no-refit -q -o "$T/nr.onnx"
[ -s "$T/spk.fold-1.onnx" ] && [ ! -e "$T/nr.fold-1.onnx" ] && ok \
  || bad "refit: spk.fold-1.onnx beside spk.onnx, no fold file with --no-refit"
mkdir "$T/rf-ho" "$T/rf-tr"
$PY - "$T" <<'PYEOF' && ok || bad "refit: cards, weights and the held-out speakers' links"
import glob, json, os, sys
import numpy as np
import onnx
from onnx import numpy_helper
T = sys.argv[1]
def load(name):
    m = onnx.load(os.path.join(T, name))
    c = json.loads({p.key: p.value for p in m.metadata_props}["libxai.card"])
    return c, [numpy_helper.to_array(t) for t in m.graph.initializer]
spk, w_spk = load("spk.onnx")
fold, w_fold = load("spk.fold-1.onnx")
nr, w_nr = load("nr.onnx")
assert spk["training"]["model_for_new_data"] == \
    "trained on every group after the hold-out, whose model is kept as fold 1", spk["training"]
assert nr["training"]["model_for_new_data"] == "the hold-out's model, trained without the held-out groups", nr
assert spk["validation"] == nr["validation"], "the refit changed the hold-out's figures"
# the fold file is the hold-out's model, bit for bit; the model for new data is another one
assert len(w_fold) == len(w_nr) and all(np.array_equal(a, b) for a, b in zip(w_fold, w_nr))
assert len(w_spk) == len(w_fold) and not all(np.array_equal(a, b) for a, b in zip(w_spk, w_fold))
drv = spk["extra"]["driver"]
held = drv["folds"][0]["heldout_groups"]
assert drv["folds"][0]["file"] == "spk.fold-1.onnx" and len(held) == 3, drv
assert sorted(drv["trained_groups"]) == sorted(nr["extra"]["driver"]["trained_groups"] + held), drv
clips = sorted(glob.glob(os.path.join(T, "data", "*.wav")))
speaker = lambda f: os.path.basename(f).split("_")[1]
ho = [f for f in clips if speaker(f) in held]
tr = [f for f in clips if speaker(f) not in held][:3]
assert len(ho) == 9, ho
for d, fs in (("rf-ho", ho), ("rf-tr", tr)):
    for f in fs:
        os.symlink(f, os.path.join(T, d, os.path.basename(f)))
PYEOF
for m in spk nr; do
  for d in ho tr; do
    expect 0 "" "$APP" explain --model "$T/$m.onnx" "$T/rf-$d" --no-figures -q -o "$T/rf-$m-$d"
  done
done
$PY - "$T" <<'PYEOF' && ok || bad "refit: the fold model explains the held-out speakers, the new one the others"
import glob, json, os, sys
import numpy as np
T = sys.argv[1]
def side(d):
    return {os.path.basename(f): json.load(open(f)) for f in sorted(glob.glob(os.path.join(T, d, "*_relevance.json")))}
ho, ho_nr, tr, tr_nr = side("rf-spk-ho"), side("rf-nr-ho"), side("rf-spk-tr"), side("rf-nr-tr")
assert len(ho) == 9 and ho.keys() == ho_nr.keys() and len(tr) == 3, (len(ho), len(tr))
for k, j in ho.items():  # fold 1, out of sample, the hold-out's logits and map
    assert j["Fold"] == 1 and j["OutOfSample"] is True, j
    assert np.allclose(j["Logits"], ho_nr[k]["Logits"], rtol=0, atol=1e-6), (j["Logits"], ho_nr[k]["Logits"])
    a = np.load(os.path.join(T, "rf-spk-ho", k[:-5] + ".npy"))
    assert np.array_equal(a, np.load(os.path.join(T, "rf-nr-ho", k[:-5] + ".npy"))), k
for k, j in tr.items():  # the model for new data, trained on their speakers: in sample
    assert j["Fold"] is None and j["OutOfSample"] is False, j
assert any(not np.allclose(j["Logits"], tr_nr[k]["Logits"], rtol=0, atol=1e-6) for k, j in tr.items()), \
    "the model for new data gives the hold-out's logits"
PYEOF
# --- a card that says the model is not above chance: explain warns, and --strict exits 4
$PY - "$T/spk.onnx" "$T/weak.onnx" <<'PYEOF' && ok || bad "weak card"
import json, sys
import onnx
m = onnx.load(sys.argv[1])
for p in m.metadata_props:
    if p.key == "libxai.card":
        c = json.loads(p.value)
        v = c["validation"]
        v["accuracy"], v["ci95"], v["above_chance"] = v["chance_level"], [0.0, 0.9], False
        p.value = json.dumps(c)
onnx.save(m, sys.argv[2])
PYEOF
expect 4 "strict" "$APP" explain --model "$T/weak.onnx" "$C" --strict -o "$T/s4" -q
[ ! -e "$T/s4/predictions.tsv" ] && ok || bad "--strict wrote outputs"
expect 0 "above chance" "$APP" explain --model "$T/weak.onnx" "$C" --no-figures -o "$T/s5"

# --- realistic data, held-out speakers (background noise, levels, speaker variability; see
# datasets/speech/README.md): 6 voices, digits 0-3; digit 1 carries a 2000 Hz tone in 0.1-0.3 s
# on 90 % of its clips for every voice but f3. Train with the defaults on m1, f1, m2, f2 (the
# hold-out's model: --no-refit); evaluate on m3 and f3 (one man, one woman: the voices are
# interleaved so that sex does not go with the split); explain the tone clips of m3, which the
# model never saw.
expect 0 "" "$GEN" --nuisance realistic --seed 5 --length 1 --voices m1,f1,m2,f2,m3,f3 --speeds 140,180 \
  --pitches 40,60 --digits 4 --shortcut-class 1 --test-voices 1 "$T/real"
mkdir "$T/rtr" "$T/rho" "$T/rsc" "$T/rctl"
for f in "$T/real"/*.wav; do
  b=$(basename "$f")
  case $(echo "$b" | cut -d_ -f2) in m3|f3) ln -s "$f" "$T/rho/$b" ;; *) ln -s "$f" "$T/rtr/$b" ;; esac
done
awk -F, '$4 == "m3" && $2 == 1 && $8 == 1 {print $1}' "$T/real/labels.csv" | while read -r b; do
  ln -s "$T/real/$b" "$T/rsc/$b"
done
for f in "$T/real"/1_f3_*.wav; do ln -s "$f" "$T/rctl/"; done
expect 0 "" "$APP" train "$T/rtr" --no-refit --labels digit -q -o "$T/real.onnx"
expect 0 "" "$APP" eval --model "$T/real.onnx" "$T/rho" --labels digit --json "$T/real-eval.json" -q
expect 0 "" "$APP" explain --model "$T/real.onnx" "$T/rsc" --target 1 --no-figures -o "$T/rx" -q
expect 0 "" "$APP" explain --model "$T/real.onnx" "$T/rctl" --target 1 --no-figures -o "$T/rc" -q
$PY - "$T/real-eval.json" "$T/rx" "$T/rc" <<'PYEOF' && ok || bad "held-out speakers: accuracy and shortcut box"
import glob, json, sys
import numpy as np
e = json.load(open(sys.argv[1]))
print(f"held-out speakers m3, f3: accuracy {e['accuracy']:.3f} (95% CI {e['ci95'][0]:.3f}-{e['ci95'][1]:.3f}), "
      f"chance {e['chance_level']:.3f}")
assert e["clips"] == 32 and e["ci95"][0] > e["chance_level"], e
def box_fraction(d):
    out = []
    for f in sorted(glob.glob(d + "/*_relevance.npy")):
        r, j = np.load(f), json.load(open(f[:-4] + ".json"))
        hz, ts = np.array(j["RowCentreHz"]), np.array(j["FrameCentreS"])
        # the bins the tone reaches: mel rows whose triangle overlaps its main lobe (2000 Hz
        # +- 2 bins of 8000/256 Hz), frames whose 32 ms window overlaps 0.1-0.3 s
        edges = np.concatenate([[0.0], hz, [4000.0]])
        rows = (edges[:-2] < 2062.5) & (edges[2:] > 1937.5)
        cols = (ts > 0.1 - 0.016) & (ts < 0.3 + 0.016)
        p = np.clip(r, 0, None)
        out.append(p[np.ix_(rows, cols)].sum() / max(p.sum(), 1e-30))
    return float(np.mean(out)), len(out), rows.sum() * cols.sum() / r.size
sc, n, share = box_fraction(sys.argv[2])
ctl, m, _ = box_fraction(sys.argv[3])
print(f"shortcut box ({share:.3f} of the bins): {sc:.3f} of the positive relevance on {n} tone clips "
      f"of the held-out speaker, {ctl:.3f} on {m} clips without the tone")
# the share itself (issue criterion >= 0.25) is tracked on the full realistic set by the
# speech-shortcut suite, which states whether the model uses the tone at all
assert n >= 3 and ctl < sc / 2, (sc, ctl)
PYEOF

# --- many clips on several machines: 3 shards by speaker give the one-machine maps; a failed
# clip is recorded and redone by a rerun, which skips what is done; the Slurm script (dry run)
mkdir "$T/shin"
for f in "$T/data"/*.wav; do ln -s "$f" "$T/shin/"; done
printf 'not audio' >"$T/shin/2_zz_0.wav"
expect 3 "2_zz_0.wav" "$APP" explain --model "$T/m.onnx" "$T/shin" -o "$T/one" -q
codes=""
for k in 1 2 3; do
  "$APP" explain --model "$T/m.onnx" "$T/shin" -o "$T/sh" --shard $k/3 -q 2>"$T/err"; codes="$codes$?"
done
case $codes in 300|030|003) ok ;; *) bad "shard exit codes $codes (want one 3: the shard of speaker zz)" ;; esac
$PY - "$T/one" "$T/sh" <<'PYEOF' && ok || bad "shards differ from the one-machine run"
import filecmp, glob, json, os, sys
one, sh = sys.argv[1], sys.argv[2]
maps = sorted(glob.glob(one + "/*_relevance.npy"))
assert len(maps) == 48 and len(glob.glob(sh + "/*_relevance.npy")) == 48
for f in maps + sorted(glob.glob(one + "/*.png")):
    assert filecmp.cmp(f, os.path.join(sh, os.path.basename(f)), shallow=False), f
for f in glob.glob(one + "/*_relevance.json") + glob.glob(one + "/*_overlay.json"):
    a, b = json.load(open(f)), json.load(open(os.path.join(sh, os.path.basename(f))))
    for k in ("CommandLine", "DateTime"):
        a.pop(k), b.pop(k)
    assert a == b, f
st = open(sh + "/.xai-status/2_zz_0_relevance.npy.status").read()
assert st.startswith("failed "), st
assert not os.path.exists(sh + "/predictions.tsv")
PYEOF
expect 3 "0 clip(s) explained, 1 failed, 48 already done" "$APP" explain --model "$T/m.onnx" "$T/shin" -o "$T/sh" \
  --shard 1/1
# the group step: a clip without its map is an error; once every clip is done, the rows are
# the one-machine run's (in input order, with the new clip's row among them)
expect 1 "2_zz_0.wav: no map sidecar" "$APP" explain --model "$T/m.onnx" "$T/shin" -o "$T/sh" --collect
[ ! -e "$T/sh/predictions.tsv" ] && ok || bad "--collect wrote a partial predictions.tsv"
expect 2 "not with --shard" "$APP" explain --model "$T/m.onnx" "$T/shin" -o "$T/sh" --collect --shard 1/2
cp "$T/data/2_m1s140p40_0.wav" "$T/shin/2_zz_0.wav.tmp" && rm "$T/shin/2_zz_0.wav" && mv "$T/shin/2_zz_0.wav.tmp" "$T/shin/2_zz_0.wav"
expect 0 "1 clip(s) explained, 0 failed, 48 already done" "$APP" explain --model "$T/m.onnx" "$T/shin" -o "$T/sh" \
  --shard 1/1
[ -s "$T/sh/2_zz_0_relevance.npy" ] && ok || bad "rerun of the failed clip"
expect 0 "collected 49 clip(s)" "$APP" explain --model "$T/m.onnx" "$T/shin" -o "$T/sh" --collect
$PY - "$T/one" "$T/sh" <<'PYEOF' && ok || bad "--collect: predictions.tsv differs from the one-machine run"
import sys
one, sh = sys.argv[1], sys.argv[2]
rows = open(sh + "/predictions.tsv").read().replace(sh + "/", one + "/").splitlines()
assert len(rows) == 50 and sum("2_zz_0" in r for r in rows) == 1, len(rows)
assert [r for r in rows if "2_zz_0" not in r] == open(one + "/predictions.tsv").read().splitlines()
PYEOF
expect 0 "" "$APP" explain --model "$T/m.onnx" "$T/shin" -o "$T/sl" --shard 1/3 --slurm --dry-run
grep -q -- '--array=0,1,2' "$T/out" && grep -q -- '--shard "$((SLURM_ARRAY_TASK_ID + 1))/3"' "$T/out" && ok \
  || bad "slurm script"
grep -q -- "--dependency=afterok:ARRAY_JOB_ID --kill-on-invalid-dep=yes" "$T/out" && grep -q -- ' --collect$' "$T/out" \
  && ok || bad "slurm group step"
expect 2 "not with --stacked" "$APP" explain --model "$T/m.onnx" "$T/shin" -o "$T/s9" --shard 1/2 --stacked

# --- evaluate: the box in s and Hz is the mask; its mass accuracy is the box share above
expect 0 "" "$APP" evaluate --model "$T/real.onnx" "$T/rsc" --target 1 --truth 0.1,0.3,1937.5,2062.5 -o "$T/rev.tsv"
grep -q "^mass-accuracy" "$T/out" && ok || bad "evaluate summary"
$PY - "$T/rev.tsv" "$T/rx" <<'PYEOF' && ok || bad "evaluate: mass accuracy = the share of positive relevance in the box"
import csv, glob, json, sys
import numpy as np
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
assert len(rows) >= 3, rows
for r in rows:
    stem = r["file"].rsplit("/", 1)[-1][:-4]
    m, j = np.load(f"{sys.argv[2]}/{stem}_relevance.npy"), json.load(open(f"{sys.argv[2]}/{stem}_relevance.json"))
    hz, ts = np.array(j["RowCentreHz"]), np.array(j["FrameCentreS"])
    edges = np.concatenate([[0.0], hz, [4000.0]])
    box = np.outer((edges[:-2] < 2062.5) & (edges[2:] > 1937.5), (ts > 0.1 - 0.016) & (ts < 0.3 + 0.016))
    p = np.clip(m, 0, None)
    want = p[box].sum() / p.sum()
    assert abs(float(r["lrp/mass-accuracy"]) - want) < 1e-5, (stem, r["lrp/mass-accuracy"], want)
    assert abs(float(r["lrp/enrichment"]) - want / (box.sum() / box.size)) < 1e-3 * want / (box.sum() / box.size)
PYEOF
expect 2 "needs --truth" "$APP" evaluate --model "$T/real.onnx" "$T/rsc" --metrics mass-accuracy -o "$T/e1.tsv"
expect 2 "--truth: invalid value" "$APP" evaluate --model "$T/real.onnx" "$T/rsc" --truth 0.3,0.1,0,100 -o "$T/e2.tsv"
for t in 0.1,inf,0,100 0.1,0.3,0,100, 0.1,0.3,0 0.1,0.3,0x10,100 "0.1,0.3,0,100 x"; do
  expect 2 "--truth: invalid value" "$APP" evaluate --model "$T/real.onnx" "$T/rsc" --truth "$t" -o "$T/e2.tsv"
done
expect 1 "meets no bin" "$APP" evaluate --model "$T/real.onnx" "$T/rsc" --truth 0.1,0.3,5000,6000 -o "$T/e3.tsv"
[ ! -e "$T/e3.tsv" ] && ok || bad "evaluate wrote a table after an error"

# --- real speech: a FSDD clip explains end to end
SH="${XAI_SHARED_DIR:-}"
if [ -n "$SH" ] && [ -f "$SH/data/speech/fsdd_subset/recordings/3_theo_0.wav" ]; then
  expect 0 "" "$APP" explain --model "$T/m.onnx" "$SH/data/speech/fsdd_subset/recordings/3_theo_0.wav" -o "$T/real" -q
  [ -s "$T/real/3_theo_0_relevance.npy" ] && ok || bad "real clip"
fi
# inputs with the same file name in different folders get the folder in their output name
if [ -n "$SH" ] && [ -d "$SH/data/speech/real_digits/en_US_f_Allison" ]; then
  R="$SH/data/speech/real_digits"
  expect 0 "" "$APP" explain --model "$T/m.onnx" "$R/en_US_f_Allison/0.wav" "$R/it_IT_f_Menardi/0.wav" --no-figures \
    -o "$T/dup" -q
  [ -s "$T/dup/en_US_f_Allison_0_relevance.npy" ] && [ -s "$T/dup/it_IT_f_Menardi_0_relevance.npy" ] && ok \
    || bad "colliding names"
fi

echo "xai-speech: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
