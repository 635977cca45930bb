#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Command-line behaviour of xai-explain: exit codes, one-line errors naming the file, no
# partial output on failure, N-stacked inputs, the LSTM references through the CLI with
# the default start (auto = logit for LSTM models), and --json contents.
# Usage: test-apps.sh BUILD_ROOT SOURCE_ROOT   (needs /usr/bin/python3 with numpy)
set -u
B="$1/apps"
S="$2"
SH="${XAI_SHARED_DIR:-$S/../shared}"
PY=/usr/bin/python3
T=$(mktemp -d /tmp/xai-apps-XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect() { # expect CODE WORDS -- command...
  want=$1; words=$2; shift 2
  "$@" >"$T/out" 2>"$T/err"; rc=$?
  if [ "$rc" -ne "$want" ]; then bad "exit $rc (want $want): $*"; cat "$T/err"; return; fi
  if [ -n "$words" ] && ! grep -q -- "$words" "$T/err"; then bad "stderr lacks '$words': $*"; cat "$T/err"; return; fi
  if [ "$want" -ne 0 ] && [ "$(wc -l <"$T/err")" -gt 2 ]; then bad "error is not short: $*"; cat "$T/err"; return; fi
  ok
}
if ! $PY -c 'import numpy' 2>/dev/null; then echo "numpy missing: skip"; exit 77; fi

M="$S/datasets/example/model.onnx"
X="$S/datasets/example/input.npy"
# happy path with a stack of 4, JSON summary
expect 0 "" "$B/xai-explain" "$M" "$X" -o "$T/r.npy" --json "$T/s.json" -q --layers
$PY - "$T/r.npy" "$T/s.json" "$X" <<'PYEOF' && ok || bad "stacked output / json"
import json, sys, numpy as np
r = np.load(sys.argv[1]); j = json.load(open(sys.argv[2])); x = np.load(sys.argv[3])
assert r.shape == x.shape and r.dtype == np.float32, (r.shape, r.dtype)
assert j["n"] == 4 and len(j["samples"]) == 4
for k in ("load", "plan", "forward", "explain"):
    assert j["timing_ms"][k] >= 0
for k in ("load", "plan", "explain"):
    assert isinstance(j["page_faults"][k], int) and j["page_faults"][k] >= 0, j["page_faults"]
s = j["samples"][0]
assert abs(s["relevance_sum"] - float(r[0].sum())) < 1e-4 * max(1, abs(s["relevance_sum"]))
assert len(s["layers"]) == 5 and s["layers"][0]["rule"] == "flat", s["layers"][0]
PYEOF
# without --layers the summary has no per-layer sums (the explanation does not take them), the
# rest is the same; --layers needs --json
expect 0 "" "$B/xai-explain" "$M" "$X" -o "$T/r2.npy" --json "$T/s2.json" -q
$PY - "$T/s.json" "$T/s2.json" "$T/r.npy" "$T/r2.npy" <<'PYEOF' && ok || bad "json without --layers"
import json, sys, numpy as np
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert all("layers" not in s for s in b["samples"]), b["samples"][0].keys()
for sa, sb in zip(a["samples"], b["samples"]):
    del sa["layers"]
    assert sa == sb, (sa, sb)
assert np.array_equal(np.load(sys.argv[3]), np.load(sys.argv[4]))
PYEOF
expect 2 "--layers adds to the --json summary" "$B/xai-explain" "$M" "$X" -o "$T/r3.npy" -q --layers
# the output is planned with the workspaces: a 2 MB map (512 pages) is faulted in while planning,
# and the explanation itself touches only a few new pages (code, small result arrays)
$PY -c "import numpy as np; x = np.load('$X'); np.save('$T/big.npy', np.tile(x, (128, 1, 1, 1)))"
expect 0 "" "$B/xai-explain" "$M" "$T/big.npy" -o "$T/big-r.npy" --json "$T/big.json" -q --batch 64
$PY - "$T/big.json" <<'PYEOF' && ok || bad "the explanation faulted in its output (page_faults)"
import json, sys
pf = json.load(open(sys.argv[1]))["page_faults"]
assert pf["plan"] >= 512 and pf["explain"] < 128, pf
PYEOF
# one sample: planning also maps the library's code and faults in the stack the kernels use, so
# the explanation itself touches no new page (it took 4 here before). Not under AddressSanitizer,
# whose allocator and shadow memory fault in pages of their own.
if ldd "$B/xai-explain" 2>/dev/null | grep -q libasan; then
  echo "SKIP: page faults of a one-sample explanation: ASan build (its allocator and shadow memory fault pages of their own)"
else
  $PY -c "import numpy as np; np.save('$T/one.npy', np.load('$X')[:1])"
  expect 0 "" "$B/xai-explain" "$M" "$T/one.npy" -o "$T/one-r.npy" --json "$T/one.json" -q
  $PY - "$T/one.json" <<'PYEOF' && ok || bad "the first explanation of one sample took page faults"
import json, sys
pf = json.load(open(sys.argv[1]))["page_faults"]
assert pf["explain"] == 0, pf
PYEOF
fi
# usage errors: exit 2, refusing to overwrite an output included; --force overwrites
expect 2 "exists; use --force" "$B/xai-explain" "$M" "$X" -o "$T/r.npy" -q
expect 2 "s.json: exists" "$B/xai-explain" "$M" "$X" -o "$T/r-new.npy" --json "$T/s.json" -q
[ ! -e "$T/r-new.npy" ] && ok || bad "a refused run wrote its other output"
expect 0 "" "$B/xai-explain" "$M" "$X" -o "$T/r.npy" --json "$T/s.json" -q --force
expect 2 "missing -o" "$B/xai-explain" "$M" "$X"
expect 2 "unknown option" "$B/xai-explain" "$M" "$X" -o "$T/u.npy" --bogus
expect 2 "unknown composite" "$B/xai-explain" "$M" "$X" -o "$T/u.npy" --composite nonsense
expect 2 "--rule" "$B/xai-explain" "$M" "$X" -o "$T/u.npy" --rule 'Conv=gama(1)'
expect 2 "--low and --high" "$B/xai-explain" "$M" "$X" -o "$T/u.npy" --low 1
expect 2 "--class" "$B/xai-explain" "$M" "$X" -o "$T/u.npy" --class x
# option numbers are read whole, within range and without overflow (a float's range for the rules)
for bad in "--class 1e3" "--epsilon nan" "--epsilon 1e39" "--gamma -0.5" "--bias-factor 0.5x" "--low inf" \
    "--batch 99999999999999999999" "--batch 65"; do
  set -- $bad
  expect 2 "$1" "$B/xai-explain" "$M" "$X" -o "$T/u.npy" "$1" "$2"
done
# data errors: exit 1, message names the file, no output left behind
$PY -c "import numpy as np; np.save('$T/int.npy', np.zeros((1,8,128), np.int32)); np.save('$T/shape.npy', np.zeros((1,8,64), np.float32)); np.save('$T/f.npy', np.zeros((8,128), np.float32, order='F').T.copy().T)"
expect 1 "int.npy" "$B/xai-explain" "$M" "$T/int.npy" -o "$T/u.npy"
expect 1 "does not match the model input" "$B/xai-explain" "$M" "$T/shape.npy" -o "$T/u.npy"
expect 1 "nonexistent.onnx" "$B/xai-explain" "$T/nonexistent.onnx" "$X" -o "$T/u.npy"
for f in truncated wrong_data_size cycle unknown_op huge_dim; do
  expect 1 "$f.onnx" "$B/xai-explain" "$S/tests/data/onnx/bad/$f.onnx" "$X" -o "$T/u.npy"
done
expect 1 "out of range" "$B/xai-explain" "$M" "$X" -o "$T/u.npy" --class 5
# per-element z-box bounds: filled with the scalars they give --low/--high's map byte for byte;
# a shape other than the input's is a data error naming the file; one without the other, or
# with --low/--high, a usage error
$PY -c "import numpy as np; x = np.load('$X'); np.save('$T/blo.npy', np.full(x.shape, -3, np.float32)); np.save('$T/bhi.npy', np.full(x.shape, 3, np.float32)); np.save('$T/bbad.npy', np.zeros(x.shape[1:], np.float32))"
expect 0 "" "$B/xai-explain" "$M" "$X" -o "$T/bs.npy" --composite epsilon-gamma-box --low -3 --high 3 -q
expect 0 "" "$B/xai-explain" "$M" "$X" -o "$T/be.npy" --composite epsilon-gamma-box --box-low "$T/blo.npy" \
  --box-high "$T/bhi.npy" -q
cmp -s "$T/bs.npy" "$T/be.npy" && ok || bad "--box-low/--box-high filled with the scalars differ from --low/--high"
expect 1 "bbad.npy: shape" "$B/xai-explain" "$M" "$X" -o "$T/u.npy" --composite epsilon-gamma-box \
  --box-low "$T/bbad.npy" --box-high "$T/bhi.npy"
[ ! -e "$T/u.npy" ] && ok || bad "a refused box left an output"
expect 2 "go together" "$B/xai-explain" "$M" "$X" -o "$T/u.npy" --box-low "$T/blo.npy"
expect 2 "replace --low/--high" "$B/xai-explain" "$M" "$X" -o "$T/u.npy" --box-low "$T/blo.npy" \
  --box-high "$T/bhi.npy" --low -3 --high 3
expect 1 "" "$B/xai-explain" "$M" "$X" -o "/nonexistent-dir/u.npy"
[ ! -e "$T/u.npy" ] && ok || bad "partial output left behind"
[ -z "$(ls "$T" | grep tmp)" ] && ok || bad "temporary files left behind: $(ls "$T")"

# a model with a symbolic time axis takes its length from the input
if $PY -c 'import onnx' 2>/dev/null; then
  $PY - "$T" <<'PYEOF'
import sys, numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
rng = np.random.default_rng(3)
n = [helper.make_node("Conv", ["input", "W", "b"], ["c"], kernel_shape=[3], pads=[1, 1]),
     helper.make_node("Relu", ["c"], ["r"]), helper.make_node("GlobalAveragePool", ["r"], ["p"]),
     helper.make_node("Flatten", ["p"], ["f"]), helper.make_node("Gemm", ["f", "G", "gb"], ["logits"], transB=1)]
inits = [numpy_helper.from_array(rng.standard_normal(s).astype(np.float32), k) for k, s in
         (("W", (4, 2, 3)), ("b", (4,)), ("G", (2, 4)), ("gb", (2,)))]
g = helper.make_graph(n, "sym", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 2, "time"])],
                      [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 2])], initializer=inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]); m.ir_version = 7
onnx.save(m, sys.argv[1] + "/sym.onnx")
np.save(sys.argv[1] + "/sym1.npy", rng.standard_normal((1, 2, 37)).astype(np.float32))
np.save(sys.argv[1] + "/sym5.npy", rng.standard_normal((5, 2, 50)).astype(np.float32))
PYEOF
  expect 0 "" "$B/xai-explain" "$T/sym.onnx" "$T/sym1.npy" -o "$T/s1.npy" -q
  expect 0 "" "$B/xai-explain" "$T/sym.onnx" "$T/sym5.npy" -o "$T/s5.npy" -q
  $PY -c "import numpy as np; assert np.load('$T/s5.npy').shape == (5, 2, 50)" && ok || bad "symbolic time axis output shape"
fi

# LSTM references through the CLI, default start (auto -> logit)
if [ -d "$SH/reference/lstm" ]; then
  for c in lstm_uni lstm_bidi; do
    d="$SH/reference/lstm/$c"
    $PY -c "
import json, numpy as np
s = json.load(open('$d/input.json'))['shape']
np.save('$T/$c.npy', np.fromfile('$d/input.f32', '<f4').reshape(s))"
    "$B/xai-explain" "$d/model.onnx" "$T/$c.npy" -o "$T/r0.npy" -q --json "$T/l.json" --force && \
    "$B/xai-explain" "$d/model.onnx" "$T/$c.npy" -o "$T/r1.npy" -q --bias-factor 1 --force || bad "$c: xai-explain failed"
    $PY -c "
import numpy as np, json
np.load('$T/r0.npy').astype('<f4').tofile('$T/r0.f32'); np.load('$T/r1.npy').astype('<f4').tofile('$T/r1.f32')
np.array(json.load(open('$T/l.json'))['samples'][0]['logits'], '<f4').tofile('$T/lg.f32')"
    if $PY "$SH/reference/compare_lstm.py" "$d" --relevance "$T/r0.f32" --relevance-bf1 "$T/r1.f32" --logits "$T/lg.f32" >"$T/cmp" 2>&1; then ok; else bad "$c: compare_lstm.py"; cat "$T/cmp"; fi
  done
fi
# ---- CNN+LSTM and exporter patterns around an LSTM through the CLI (tests/data/lstm, fixtures of
# make_cnn_lstm.py): the defaults with --bias-factor 1 (epsilon-plus-flat CNN, logit start) and
# the LSTM command of the README (--init logit --composite epsilon --epsilon 1e-3 --lstm-epsilon 1e-3),
# vs the float64 maps: rel L2 <= 1e-5 (beta 0) / 5e-5 (beta 1), logits 1e-5, and with the
# epsilon composite and beta 1, input + initial-state relevance = logit to 1e-5.
for c in cnn_lstm_uni:epf:eps3 cnn_lstm_bidi:epf:eps3 cnn_lstm_bidi_view:epf:eps3 lstm_patterns:lstm:lstm; do
  n=${c%%:*}; rest=${c#*:}; kd=${rest%%:*}; ke=${rest#*:}
  d="$S/tests/data/lstm/$n"
  $PY -c "
import numpy as np, onnx
m = onnx.load('$d/model.onnx')
s = [x.dim_value for x in m.graph.input[0].type.tensor_type.shape.dim]
np.save('$T/$n.npy', np.fromfile('$d/x.f32', '<f4').reshape(s))" || { bad "$n: input"; continue; }
  for run in "dflt 1 $kd" "cmd 0 $ke" "cmd 1 $ke"; do
    set -- $run
    if [ "$1" = dflt ]; then
      expect 0 "" "$B/xai-explain" "$d/model.onnx" "$T/$n.npy" -o "$T/c.npy" -q --json "$T/c.json" --bias-factor 1 -f
    else
      expect 0 "" "$B/xai-explain" "$d/model.onnx" "$T/$n.npy" -o "$T/c.npy" -q --json "$T/c.json" --force --init logit \
        --composite epsilon --epsilon 1e-3 --lstm-epsilon 1e-3 --bias-factor "$2"
    fi
    $PY - "$T/c.npy" "$T/c.json" "$d" "$3" "$2" "$1" <<'PYEOF' && ok || bad "$n $run: CLI map differs"
import json, sys, numpy as np
r = np.load(sys.argv[1]).astype(np.float64).ravel(); j = json.load(open(sys.argv[2]))["samples"][0]
d, key, bf, mode = sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]
ref = np.fromfile("%s/%s.r%d.f32" % (d, key, bf), "<f4").astype(np.float64)
lg = np.fromfile(d + "/logits.f32", "<f4").astype(np.float64)
e = np.linalg.norm(r - ref) / np.linalg.norm(ref)
tol = 5e-5 if bf else 1e-5
assert e <= tol, ("rel L2", e)
assert np.abs(np.array(j["logits"]) - lg).max() <= 1e-5 * max(1.0, np.abs(lg).max()), (j["logits"], lg)
k = int(np.argmax(lg))
init = np.fromfile("%s/%s.init1.f64" % (d, key), "<f8")[0]
if bf:
    assert abs(j["initial_state_relevance"] - init) <= 1e-5 * abs(lg[k]), (j["initial_state_relevance"], init)
if bf and mode == "cmd":
    tot = float(r.sum()) + j["initial_state_relevance"]
    assert abs(tot - lg[k]) <= 1e-5 * abs(lg[k]), ("not conserved", tot, lg[k])
PYEOF
  done
done

# xai-train: a planted problem, training from a spec, provenance in the model, no overwrite
$PY - "$T" <<'PYEOF'
import sys, numpy as np
rng = np.random.default_rng(11)
n, C, L = 96, 3, 32
X = rng.standard_normal((n, C, L)).astype(np.float32) * 0.5
y = np.arange(n) % 2
X[y == 1, 1, 10:20] += 2.0          # class 1: a bump on channel 1
np.save(sys.argv[1] + "/tx.npy", X); np.save(sys.argv[1] + "/ty.npy", y.astype(np.float32))
PYEOF
expect 0 "" "$B/xai-train" --arch 'conv1d(4,k=5,p=2) relu maxpool(2) flatten dense(2)' --x "$T/tx.npy" --y "$T/ty.npy" \
  --epochs 15 --batch 16 --lr 0.01 --seed 3 --classes rest,bump -o "$T/m.onnx" -q
[ -s "$T/m.onnx" ] && [ -s "$T/m.onnx.log.json" ] && ok || bad "xai-train outputs missing"
# the contrastive starts through xai-explain: with the epsilon composite and the bias given back
# (--bias-factor 1), each map sums to the explained quantity: z_t minus the log-sum-exp of the
# other logits (logodds) or minus their mean (contrast); with two classes both are z_t - z_o
$PY -c "import numpy as np; np.save('$T/tx8.npy', np.load('$T/tx.npy')[:8])"
for s in logodds contrast; do
  expect 0 "" "$B/xai-explain" "$T/m.onnx" "$T/tx8.npy" -o "$T/s-$s.npy" -q --json "$T/s-$s.json" --init $s \
    --composite epsilon --epsilon 1e-6 --bias-factor 1 --force
  $PY - "$T/s-$s.npy" "$T/s-$s.json" "$s" <<'PYEOF' && ok || bad "--init $s: the map does not sum to the explained quantity"
import json, sys, numpy as np
r = np.load(sys.argv[1]).astype(np.float64); j = json.load(open(sys.argv[2]))
assert j["parameters"]["init"] == sys.argv[3], j["parameters"]["init"]
for i, smp in enumerate(j["samples"]):
    z = np.array(smp["logits"], np.float64); t = int(np.argmax(z)); o = np.delete(z, t)
    want = z[t] - (np.log(np.exp(o - o.max()).sum()) + o.max() if sys.argv[3] == "logodds" else o.mean())
    assert abs(r[i].sum() - want) <= 1e-3 * max(1.0, abs(want)), (i, r[i].sum(), want)
PYEOF
done
expect 2 "logodds" "$B/xai-explain" "$T/m.onnx" "$T/tx8.npy" -o "$T/s-x.npy" -q --init odds
expect 2 "exists" "$B/xai-train" --arch 'flatten dense(2)' --x "$T/tx.npy" --y "$T/ty.npy" -o "$T/m.onnx" -q
expect 2 "exactly one of" "$B/xai-train" --x "$T/tx.npy" --y "$T/ty.npy" -o "$T/m2.onnx"
for bad in "--epochs 1e3" "--epochs 99999999999999999999" "--epochs 3000000000" "--batch 0x10" "--step-size 2.5" \
    "--patience -1" "--lr inf" "--lr 1e-50" "--momentum nan" "--momentum 1" "--weight-decay nan" \
    "--step-gamma 0" "--val-split 0.95" "--seed -1" "--seed 18446744073709551616" "--nthreads 4097"; do
  set -- $bad
  expect 2 "$1" "$B/xai-train" --arch 'flatten dense(2)' --x "$T/tx.npy" --y "$T/ty.npy" -o "$T/m2.onnx" -q "$1" "$2"
done
[ ! -e "$T/m2.onnx" ] && ok || bad "a refused option still trained a model"
for cw in nan,1 1, ,1 1,2,3 -1,1 1,1e39; do
  expect 2 "--class-weights" "$B/xai-train" --arch 'flatten dense(2)' --x "$T/tx.npy" --y "$T/ty.npy" -o "$T/m2.onnx" -q \
    --class-weights "$cw"
done
expect 1 "arch" "$B/xai-train" --arch 'conv1d(4,k=)' --x "$T/tx.npy" --y "$T/ty.npy" -o "$T/m3.onnx" -q
[ ! -e "$T/m3.onnx" ] && ok || bad "failed training left a model behind"
$PY - "$T" <<'PYEOF' && ok || bad "trained model: metadata or accuracy"
import sys, json, numpy as np, onnx
t = sys.argv[1]
m = onnx.load(t + "/m.onnx")
meta = {p.key: p.value for p in m.metadata_props}
assert json.loads(meta["class_names"]) == ["rest", "bump"], meta
prov = json.loads(meta["xai_training"]); assert prov["seed"] == 3 and prov["epochs_run"] >= 1, prov
assert meta["xai_arch"].startswith("conv1d"), meta
log = json.load(open(t + "/m.onnx.log.json")); assert len(log["epochs"]) == prov["epochs_run"]
assert prov["final_train_acc"] > 0.9, prov
side = json.load(open(t + "/m.json"))  # the model's sidecar: its card, the log, provenance
assert side["classes"] == ["rest", "bump"] and side["TrainingLog"] == t + "/m.onnx.log.json", side
assert "CommandLine" in side and "Description" in side, side
PYEOF
# the `reference` layer is fitted after training: its constant is the mean of its input over
# the samples (here flatten(X): the mean sample) and the dense bias takes up W c, so the logits
# are those of the same weights without it; a fine-tuned model's reference is refitted
expect 0 "" "$B/xai-train" --arch 'flatten reference dense(2)' --x "$T/tx.npy" --y "$T/ty.npy" --epochs 5 \
  --seed 3 -o "$T/mref.onnx" -q
$PY - "$T/tx.npy" "$T/mref.onnx" <<'PYEOF' && ok || bad "xai-train: reference layer not set to the training mean"
import sys, numpy as np, onnx
from onnx import numpy_helper
X = np.load(sys.argv[1]).reshape(96, -1).astype(np.float64)
g = onnx.load(sys.argv[2]).graph
w = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in g.initializer}
sub = [n for n in g.node if n.op_type == "Sub"]
assert len(sub) == 1 and sub[0].input[1] in w, [n.op_type for n in g.node]
c = w[sub[0].input[1]].reshape(-1)
assert np.abs(c).max() > 0.01, "reference left at zero (an identity)"
assert np.allclose(c, X.mean(axis=0), atol=1e-5), np.abs(c - X.mean(axis=0)).max()
PYEOF
echo '{}' > "$T/taken.json"
expect 2 "taken.json" "$B/xai-train" --arch 'flatten dense(2)' --x "$T/tx.npy" --y "$T/ty.npy" -o "$T/taken.onnx" -q
[ ! -e "$T/taken.onnx" ] && ok || bad "a model was written although its sidecar's name was taken"
# labels of any integer dtype train the same model as float labels; bad labels are refused
$PY - "$T" <<'PYEOF'
import sys, numpy as np
t = sys.argv[1]
y = np.load(t + "/ty.npy").astype(np.int64)
np.save(t + "/ty64.npy", y); np.save(t + "/ty8.npy", y.astype(np.uint8))
bad = y.copy(); bad[7] = -1; np.save(t + "/tyneg.npy", bad)
half = y.astype(np.float32); half[3] = 0.5; np.save(t + "/tyhalf.npy", half)
PYEOF
for dt in 64 8; do
  expect 0 "" "$B/xai-train" --arch 'conv1d(4,k=5,p=2) relu maxpool(2) flatten dense(2)' --x "$T/tx.npy" \
    --y "$T/ty$dt.npy" --epochs 15 --batch 16 --lr 0.01 --seed 3 --classes rest,bump -o "$T/m$dt.onnx" -q
  $PY - "$T/m.onnx" "$T/m$dt.onnx" <<'PYEOF' && ok || bad "integer labels (ty$dt) train another model than float labels"
import sys, numpy as np, onnx
from onnx import numpy_helper
a, b = ({i.name: numpy_helper.to_array(i) for i in onnx.load(p).graph.initializer} for p in sys.argv[1:])
assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a), "weights differ"
PYEOF
done
expect 1 "label 7 is -1" "$B/xai-train" --arch 'flatten dense(2)' --x "$T/tx.npy" --y "$T/tyneg.npy" -o "$T/mneg.onnx" -q
expect 1 "not an integer" "$B/xai-train" --arch 'flatten dense(2)' --x "$T/tx.npy" --y "$T/tyhalf.npy" -o "$T/mh.onnx" -q
[ ! -e "$T/mneg.onnx" ] && [ ! -e "$T/mh.onnx" ] && ok || bad "refused labels left a model behind"
# the trained model explains, and its relevance sits on the planted bump
expect 0 "" "$B/xai-explain" "$T/m.onnx" "$T/tx.npy" -o "$T/tr.npy" -q --composite epsilon --class 1
$PY -c "
import numpy as np
r = np.load('$T/tr.npy'); y = np.arange(96) % 2
share = np.abs(r[y == 1][:, 1, 10:20]).sum() / np.abs(r[y == 1]).sum()
assert share > 0.5, share   # the bump is 10 of 96 values per sample (10 %)
" && ok || bad "relevance of the trained model misses the planted bump"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
