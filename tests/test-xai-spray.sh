#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# xai-spray end to end: a class whose maps follow two strategies (relevance on the left or on
# the right half) ranks above a class with one strategy, splits into exactly those two groups,
# and its cluster means are the two prototypes; every output is written with its sidecar, the
# figures are PNGs; usage errors exit 2, data errors name the file and exit 1, existing
# outputs are refused without --force.
# Usage: test-xai-spray.sh XAI_SPRAY   (needs /usr/bin/python3 with numpy)
set -u
SPRAY="$1"
PY=/usr/bin/python3
T=$(mktemp -d /tmp/xai-spray-XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/check-lib.sh"
if ! $PY -c 'import numpy' 2>/dev/null; then echo "SKIP: /usr/bin/python3 has no numpy"; exit 77; fi

# class 7: 20 maps on the left half, 20 on the right; class 3: 40 maps with one shared
# pattern plus noise. 8 x 16 maps.
$PY - "$T" <<'PYEOF' || exit 1
import sys, numpy as np
rng = np.random.default_rng(5)
n = 40
maps = np.abs(rng.normal(0, 0.05, (2 * n, 8, 16))).astype(np.float32)
maps[:20, 2:6, 1:6] += 1.0
maps[20:40, 2:6, 10:15] += 1.0
maps[40:, 3:5, 6:10] += 1.0
y = np.r_[np.full(n, 7), np.full(n, 3)].astype(np.int64)
np.save(sys.argv[1] + "/maps.npy", maps)
np.save(sys.argv[1] + "/y.npy", y)
np.save(sys.argv[1] + "/y-short.npy", y[:-1])
PYEOF

expect 0 "" "$SPRAY" "$T/maps.npy" --labels "$T/y.npy" --knn 5 -o "$T/out"
for f in ranking.tsv ranking.json eigenvalues.tsv eigenvalues.png clusters.tsv clusters.json \
         class-7-cluster-means.npy class-7-cluster-means.json class-7-embedding.png \
         class-7-cluster-0.png class-7-cluster-1.png class-3-embedding.png; do
  check [ -s "$T/out/$f" ]
done
for f in "$T"/out/*.png; do
  check [ "$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
done
$PY - "$T/out" <<'PYEOF' && ok || bad "ranking, clusters or prototypes"
import sys, csv, numpy as np
d = sys.argv[1]
rank = list(csv.DictReader(open(d + "/ranking.tsv"), delimiter="\t"))
assert [int(r["class"]) for r in rank] == [7, 3], rank
assert int(rank[0]["n_clusters"]) == 2, rank[0]
assert float(rank[0]["fda_ratio"]) > float(rank[1]["fda_ratio"]), rank
rows = [r for r in csv.DictReader(open(d + "/clusters.tsv"), delimiter="\t") if r["class"] == "7"]
lab = np.array([int(r["cluster"]) for r in rows])
assert len(lab) == 40 and len(set(lab[:20])) == 1 and len(set(lab[20:])) == 1 and lab[0] != lab[20], lab
m = np.load(d + "/class-7-cluster-means.npy")
assert m.shape == (2, 8, 16), m.shape
left, right = m[lab[0]], m[lab[20]]
assert left[2:6, 1:6].mean() > 0.9 and left[:, 9:].mean() < 0.1, "left prototype"
assert right[2:6, 10:15].mean() > 0.9 and right[:, :7].mean() < 0.1, "right prototype"
PYEOF
grep -q '"Method"' "$T/out/ranking.json" && ok || bad "ranking sidecar has no Method"

# the overwrite rule, then --force
expect 2 "exists" "$SPRAY" "$T/maps.npy" --labels "$T/y.npy" --knn 5 -o "$T/out"
expect 0 "" "$SPRAY" "$T/maps.npy" --labels "$T/y.npy" --knn 5 -o "$T/out" -f -q
# usage errors
expect 2 "missing -o" "$SPRAY" "$T/maps.npy"
expect 2 "missing MAPS" "$SPRAY" -o "$T/x"
expect 2 "--knn" "$SPRAY" "$T/maps.npy" --knn 0 -o "$T/x"
expect 2 "--pool" "$SPRAY" "$T/maps.npy" --pool 8 -o "$T/x"
for pool in 8x 8x32x2 x8 8x-1 8x1e3; do
  expect 2 "--pool needs RxC with integers" "$SPRAY" "$T/maps.npy" --pool "$pool" -o "$T/x"
done
expect 2 "twice" "$SPRAY" "$T/maps.npy" --classes 3,3 -o "$T/x"
for cl in 3, ,3 3,,4 3,x 3,99999999999999999999; do
  expect 2 "--classes needs" "$SPRAY" "$T/maps.npy" --classes "$cl" -o "$T/x"
done
expect 2 "--norm" "$SPRAY" "$T/maps.npy" --norm l2 -o "$T/x"
expect 2 "must not exceed" "$SPRAY" "$T/maps.npy" --eig 4 --clusters 5 -o "$T/x"
expect 2 "unknown option" "$SPRAY" "$T/maps.npy" --bogus -o "$T/x"
# data errors name the file
expect 1 "y-short.npy" "$SPRAY" "$T/maps.npy" --labels "$T/y-short.npy" -o "$T/x"
expect 1 "at least 3" "$SPRAY" "$T/maps.npy" --labels "$T/y.npy" --classes 3,9 -o "$T/x"
printf 'not a file' >"$T/bad.npy"
expect 1 "bad.npy" "$SPRAY" "$T/bad.npy" -o "$T/x"
check [ ! -e "$T/x" ]
expect 0 "SYNOPSIS" sh -c "'$SPRAY' --help >&2"

finish xai-spray
