#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# xai-prune end to end on a small trained image CNN: every criterion and seed gives a row per
# rate; rate 0 is the unpruned model's held-out accuracy (checked against xai-explain's
# logits); parameters and FLOPs fall as the rate grows; the saved models pass the ONNX checker
# with fewer filters and give the held-out accuracy the table reports; fine-tuning runs; usage
# and data errors exit 2 and 1; outputs are not overwritten without --force.
# Usage: test-xai-prune.sh BUILD_ROOT   (needs /usr/bin/python3 with numpy and onnx)
set -u
B="$1/apps"
PY=/usr/bin/python3
T=$(mktemp -d /tmp/xai-prune-XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/check-lib.sh"
if ! $PY -c 'import numpy, onnx' 2>/dev/null; then echo "SKIP: /usr/bin/python3 lacks numpy or onnx"; exit 77; fi

# two classes of 12 x 12 images: a horizontal or a vertical bar at a random place, in noise
$PY - "$T" <<'PYEOF' || exit 1
import sys, numpy as np
rng = np.random.default_rng(3)
def make(n):
    x = rng.normal(0, 0.5, (n, 1, 12, 12)).astype(np.float32)
    y = rng.integers(0, 2, n)
    for i in range(n):
        r, c = rng.integers(3, 9, 2)
        if y[i]: x[i, 0, r - 3:r + 3, c] += 1.5
        else: x[i, 0, r, c - 3:c + 3] += 1.5
    return x, y.astype(np.float32)
for name, n in (("", 240), ("t", 120)):
    x, y = make(n)
    np.save(f"{sys.argv[1]}/x{name}.npy", x); np.save(f"{sys.argv[1]}/y{name}.npy", y)
PYEOF
"$B/xai-train" --arch 'conv2d(8,k=3,p=1) bn relu maxpool(2) conv2d(8,k=3,p=1) relu flatten dense(16) relu dense(2)' \
  --x "$T/x.npy" --y "$T/y.npy" --epochs 8 --seed 1 -o "$T/m.onnx" -q || { echo "FAIL: training"; exit 1; }
P() { "$B/xai-prune" "$T/m.onnx" --data "$T/x.npy" --labels "$T/y.npy" --test "$T/xt.npy" --test-labels "$T/yt.npy" "$@"; }

expect 0 "prunable units" P --units all --step 0.25 --total 0.75 --seeds 2 --ref-size 32 --save 0.5 -o "$T/out" \
  --progress none
for f in pruning.tsv pruning.json summary.tsv summary.json pruning.png pruned-lrp.onnx pruned-weight.onnx \
         pruned-gradient.onnx pruned-taylor.onnx; do
  check [ -s "$T/out/$f" ]
done
"$B/xai-explain" "$T/m.onnx" "$T/xt.npy" -o "$T/r.npy" --json "$T/r.json" -q; check [ $? -eq 0 ]
$PY - "$T" <<'PYEOF' && ok || bad "tables, saved models"
import sys, csv, json, numpy as np, onnx
d = sys.argv[1]
rows = list(csv.DictReader(open(d + "/out/pruning.tsv"), delimiter="\t"))
assert len(rows) == 4 * 2 * 4, len(rows)              # criteria x seeds x (0, .25, .5, .75)
yt = np.load(d + "/yt.npy")
logits = np.array([s["logits"] for s in json.load(open(d + "/r.json"))["samples"]])
acc0 = float(np.mean(logits.argmax(1) == yt))
for r in rows:
    if float(r["rate"]) == 0:
        assert abs(float(r["accuracy"]) - acc0) < 1e-9, (r, acc0)
for crit in ("lrp", "weight", "gradient", "taylor"):
    for seed in ("1", "2"):
        rs = sorted((float(r["rate"]), int(r["params"]), int(r["flops"]), int(r["pruned_units"]))
                    for r in rows if r["criterion"] == crit and r["seed"] == seed)
        assert all(a[1] > b[1] and a[2] > b[2] and a[3] < b[3] for a, b in zip(rs, rs[1:])), rs
        assert rs[2][3] == 16, rs                     # half of 8 + 8 + 16 units
m0 = onnx.load(d + "/m.onnx")
w0 = {i.name: list(i.dims) for i in m0.graph.initializer}
for crit in ("lrp", "weight", "gradient", "taylor"):
    m = onnx.load(f"{d}/out/pruned-{crit}.onnx")
    onnx.checker.check_model(m, full_check=True)
    side = json.load(open(f"{d}/out/pruned-{crit}.json"))   # the model's sidecar: how it was pruned
    assert side["Pruning"] == {"criterion": crit, "rate": 0.5, "global": True}, side
    assert side["Description"].startswith("xai-prune: a model pruned"), side
    assert side["Sources"][0] == d + "/m.onnx", side
    w = {i.name: list(i.dims) for i in m.graph.initializer}
    assert sum(np.prod(v) for v in w.values()) < sum(np.prod(v) for v in w0.values()), crit
PYEOF
# the saved model reproduces the table's accuracy of seed 1 at rate 0.5
"$B/xai-explain" "$T/out/pruned-taylor.onnx" "$T/xt.npy" -o "$T/p.npy" --json "$T/p.json" -q; check [ $? -eq 0 ]
$PY - "$T" <<'PYEOF' && ok || bad "saved model accuracy"
import sys, csv, json, numpy as np
d = sys.argv[1]
row = [r for r in csv.DictReader(open(d + "/out/pruning.tsv"), delimiter="\t")
       if r["criterion"] == "taylor" and r["seed"] == "1" and float(r["rate"]) == 0.5][0]
lg = np.array([s["logits"] for s in json.load(open(d + "/p.json"))["samples"]])
assert abs(np.mean(lg.argmax(1) == np.load(d + "/yt.npy")) - float(row["accuracy"])) < 1e-9
PYEOF
# Conv filters only (the default for a CNN): half of the 16 filters go, the Dense layer keeps
# its 16 units
expect 0 "" P --criteria lrp --step 0.5 --total 0.5 --seeds 1 --save 0.5 -o "$T/conv" -q
$PY - "$T" <<'PYEOF' && ok || bad "--units conv"
import sys, csv, json, onnx
d = sys.argv[1]
rows = list(csv.DictReader(open(d + "/conv/pruning.tsv"), delimiter="\t"))
assert [int(r["pruned_units"]) for r in rows] == [0, 8], rows
m = onnx.load(d + "/conv/pruned-lrp.onnx")
onnx.checker.check_model(m, full_check=True)
gemm = [n for n in m.graph.node if n.op_type == "Gemm"]
w = {i.name: list(i.dims) for i in m.graph.initializer}
assert w[gemm[0].input[1]][0] == 16 and w[gemm[1].input[1]] == [2, 16], (w, gemm)
par = json.load(open(d + "/conv/pruning.json"))["Parameters"]
assert par["units"] == "conv" and par["lrp_rules"] == "Conv=zplus-nobias" and par["norm"] == "auto", par
PYEOF
# one step of iterative pruning is one shot: the same units, the same accuracy; two steps run
expect 0 "" P --criteria lrp,taylor --step 0.5 --total 0.5 --seeds 2 --ref-size 32 -o "$T/once" -q
expect 0 "" P --criteria lrp,taylor --step 0.5 --total 0.5 --seeds 2 --ref-size 32 --iterative -o "$T/iter" -q
check cmp -s "$T/once/pruning.tsv" "$T/iter/pruning.tsv"
expect 0 "" P --criteria lrp --step 0.25 --total 0.5 --seeds 1 --iterative -o "$T/iter2" -q
check [ "$(cut -f4 "$T/iter2/pruning.tsv" | tr '\n' ' ')" = "pruned_units 0 4 8 " ]  # of the 16 filters
# reference samples per class: more per class than there are samples takes them all (= --ref-size 0);
# a logit variant of a criterion by its name
expect 0 "" P --criteria gradient --step 0.5 --total 0.5 --seeds 1 --ref-size 0 -o "$T/all" -q
expect 0 "" P --criteria gradient --step 0.5 --total 0.5 --seeds 1 --ref-per-class 1000 -o "$T/pc" -q
check cmp -s "$T/all/pruning.tsv" "$T/pc/pruning.tsv"
expect 0 "" P --criteria taylor-logit --step 0.5 --total 0.5 --seeds 1 --ref-per-class 2 -o "$T/pc2" -q
check [ "$($PY -c "import json; print(json.load(open('$T/pc2/pruning.json'))['Parameters']['ref_per_class'])")" = 2 ]
# iterative pruning with fine-tuning, one criterion
expect 0 "" P --criteria weight --step 0.5 --total 0.5 --seeds 1 --fine-tune 2 -o "$T/ft" -q
check [ "$(wc -l <"$T/ft/pruning.tsv")" -eq 3 ]
# the weight criterion alone needs no reference data
expect 0 "" "$B/xai-prune" "$T/m.onnx" --criteria weight --test "$T/xt.npy" --test-labels "$T/yt.npy" \
  --seeds 1 --step 0.5 --total 0.5 -o "$T/w" -q
# errors
expect 2 "exists" P --seeds 1 --step 0.5 --total 0.5 -o "$T/w" -q --criteria weight
expect 2 "--test" "$B/xai-prune" "$T/m.onnx" --data "$T/x.npy" --labels "$T/y.npy" -o "$T/e"
expect 2 "needed by the criteria" "$B/xai-prune" "$T/m.onnx" --test "$T/xt.npy" --test-labels "$T/yt.npy" -o "$T/e"
expect 2 "not a rate" P --step 0.2 --total 0.6 --save 0.5 -o "$T/e"
expect 2 "--criteria" P --criteria lrp,l1 -o "$T/e"
expect 2 "twice" P --criteria lrp,lrp -o "$T/e"
expect 2 "--step" P --step 1.5 -o "$T/e"
# option numbers are decimal, whole and within range
for bad in "--step nan" "--total 0x0.8" "--save 1e-400" "--lr 1e999" "--seeds 1e1" "--fine-tune 99999999999999999999"; do
  set -- $bad
  expect 2 "$1" P "$1" "$2" -o "$T/e"
done
expect 2 "--units" P --units dense -o "$T/e"
expect 2 "--norm" P --norm l3 -o "$T/e"
expect 2 "only zplus and alphabeta" P --rule "Conv=epsilon-nobias" -o "$T/e"
# a Dense-only model: --units auto prunes its Dense units
$PY -c "import numpy as np; np.save('$T/fx.npy', np.load('$T/x.npy').reshape(240, -1)); np.save('$T/fxt.npy', np.load('$T/xt.npy').reshape(120, -1))"
"$B/xai-train" --arch 'dense(12) relu dense(2)' --x "$T/fx.npy" --y "$T/y.npy" --epochs 2 -o "$T/mlp.onnx" -q || bad "training the MLP"
expect 0 "" "$B/xai-prune" "$T/mlp.onnx" --data "$T/fx.npy" --labels "$T/y.npy" --test "$T/fxt.npy" --test-labels "$T/yt.npy" \
  --criteria lrp --seeds 1 --step 0.5 --total 0.5 -o "$T/mlp" -q
check [ "$(cut -f4 "$T/mlp/pruning.tsv" | tr '\n' ' ')" = "pruned_units 0 6 " ]
expect 1 "a Conv whose" "$B/xai-prune" "$T/mlp.onnx" --units conv --criteria weight --test "$T/fxt.npy" \
  --test-labels "$T/yt.npy" -o "$T/e"
expect 2 "--ref-per-class" P --ref-per-class 0 -o "$T/e"
$PY -c "import numpy as np; np.save('$T/y5.npy', np.zeros(5, np.float32)); np.save('$T/y9.npy', np.full(240, 9, np.float32))"
expect 1 "y5.npy" P --labels "$T/y5.npy" -o "$T/e"
expect 1 "not a class" P --labels "$T/y9.npy" -o "$T/e"
$PY -c "import onnx, onnx.helper as h, onnx.numpy_helper, numpy as np
g = h.make_graph([h.make_node('Flatten', ['x'], ['f']), h.make_node('Gemm', ['f', 'w'], ['y'], transB=1)], 'g',
  [h.make_tensor_value_info('x', 1, [1, 1, 12, 12])], [h.make_tensor_value_info('y', 1, [1, 2])],
  [onnx.numpy_helper.from_array(np.ones((2, 144), np.float32), 'w')])
onnx.save(h.make_model(g, opset_imports=[h.make_opsetid('', 17)]), '$T/lin.onnx')"
expect 1 "no prunable layer" "$B/xai-prune" "$T/lin.onnx" --criteria weight --test "$T/xt.npy" --test-labels "$T/yt.npy" -o "$T/e"
check [ ! -e "$T/e" ]
# an LSTM is not a per-channel operator: the conv filters that feed it are no candidates, nor
# are its hidden units, so conv -> LSTM -> output has none (the --help says so)
"$PY" -c "import numpy as np; np.save('$T/lx.npy', np.random.default_rng(1).normal(size=(16, 2, 10)).astype(np.float32)); np.save('$T/ly.npy', (np.arange(16) % 2).astype(np.float32))"
"$B/xai-train" --arch 'conv1d(4,k=3,p=1) relu lstm(5) dense(2)' --x "$T/lx.npy" --y "$T/ly.npy" --epochs 1 \
  -o "$T/lstm.onnx" -q || { echo "FAIL: training the LSTM"; exit 1; }
expect 1 "no prunable layer" "$B/xai-prune" "$T/lstm.onnx" --criteria weight --test "$T/lx.npy" --test-labels "$T/ly.npy" -o "$T/e"
"$B/xai-prune" --help | grep -q "feed an LSTM" && ok "--help says LSTM models are refused" || bad "--help on LSTM"

finish xai-prune
