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
expect 0 "" "$B/xai-explain" "$M" "$X" -o "$T/r.npy" --json "$T/s.json" -q
$PY - "$T/r.npy" "$T/s.json" "$X" <<'PYEOF' && ok || bad "stacked output / json"
import json, sys, numpy as np
r = np.load(sys.argv[1]); j = json.load(open(sys.argv[2])); x = np.load(sys.argv[3])
assert r.shape == x.shape and r.dtype == np.float32, (r.shape, r.dtype)
assert j["n"] == 4 and len(j["samples"]) == 4
for k in ("load", "forward", "explain"):
    assert j["timing_ms"][k] >= 0
s = j["samples"][0]
assert abs(s["relevance_sum"] - float(r[0].sum())) < 1e-4 * max(1, abs(s["relevance_sum"]))
assert len(s["layers"]) == 5 and s["layers"][0]["rule"] == "flat", s["layers"][0]
PYEOF
# usage errors: exit 2
expect 2 "missing -o" "$B/xai-explain" "$M" "$X"
expect 2 "unknown option" "$B/xai-explain" "$M" "$X" -o "$T/u.npy" --bogus
expect 2 "unknown composite" "$B/xai-explain" "$M" "$X" -o "$T/u.npy" --composite nonsense
expect 2 "--rule" "$B/xai-explain" "$M" "$X" -o "$T/u.npy" --rule 'Conv=gama(1)'
expect 2 "--low and --high" "$B/xai-explain" "$M" "$X" -o "$T/u.npy" --low 1
expect 2 "--class" "$B/xai-explain" "$M" "$X" -o "$T/u.npy" --class x
# data errors: exit 1, message names the file, no output left behind
$PY -c "import numpy as np; np.save('$T/int.npy', np.zeros((1,8,128), np.int32)); np.save('$T/shape.npy', np.zeros((1,8,64), np.float32)); np.save('$T/f.npy', np.zeros((8,128), np.float32, order='F').T.copy().T)"
expect 1 "int.npy" "$B/xai-explain" "$M" "$T/int.npy" -o "$T/u.npy"
expect 1 "does not match the model input" "$B/xai-explain" "$M" "$T/shape.npy" -o "$T/u.npy"
expect 1 "nonexistent.onnx" "$B/xai-explain" "$T/nonexistent.onnx" "$X" -o "$T/u.npy"
for f in truncated wrong_data_size cycle unknown_op huge_dim; do
  expect 1 "$f.onnx" "$B/xai-explain" "$S/tests/data/onnx/bad/$f.onnx" "$X" -o "$T/u.npy"
done
expect 1 "out of range" "$B/xai-explain" "$M" "$X" -o "$T/u.npy" --class 5
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
    "$B/xai-explain" "$d/model.onnx" "$T/$c.npy" -o "$T/r0.npy" -q --json "$T/l.json" && \
    "$B/xai-explain" "$d/model.onnx" "$T/$c.npy" -o "$T/r1.npy" -q --bias-factor 1 || bad "$c: xai-explain failed"
    $PY -c "
import numpy as np, json
np.load('$T/r0.npy').astype('<f4').tofile('$T/r0.f32'); np.load('$T/r1.npy').astype('<f4').tofile('$T/r1.f32')
np.array(json.load(open('$T/l.json'))['samples'][0]['logits'], '<f4').tofile('$T/lg.f32')"
    if $PY "$SH/reference/compare_lstm.py" "$d" --relevance "$T/r0.f32" --relevance-bf1 "$T/r1.f32" --logits "$T/lg.f32" >"$T/cmp" 2>&1; then ok; else bad "$c: compare_lstm.py"; cat "$T/cmp"; fi
  done
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
