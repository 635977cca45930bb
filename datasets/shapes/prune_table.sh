#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The settings of the VGG-style CNN's pruning one factor at a time: the CNN trained on
# make_shapes.py's training sites, pruned one shot by every criterion at 10 % to 50 % (5
# reference draws each), measured on the held-out sites: the defaults (Conv filters, 10 reference
# images per class), Dense units too, 64 drawn regardless of class, --iterative, --per-layer, 1
# and 5 per class, the L2 norm for every criterion, the criterion before its bias-free conv rule
# and per-criterion norm (--rule '' --norm l1) and with the reference code's z+ on the dense
# layers too. The README's table "Why the bias-free conv rule and the paper's norms" came from
# it on an earlier model, with the logit-based gradient and taylor of that time (add --criteria
# lrp,weight,gradient-logit,taylor-logit to P below for those). datasets/prune_compare.py makes
# the README's current comparison. Usage: prune_table.sh BUILD_DIR OUTDIR
set -eu
B="$1/apps"
O="$2"
mkdir -p "$O"
/usr/bin/python3 "$(dirname "$0")/make_shapes.py" "$O" 0
[ -s "$O/vgg.onnx" ] || "$B/xai-train" --arch 'conv2d(16,k=3,p=1) bn relu conv2d(16,k=3,p=1) bn relu maxpool(2) conv2d(32,k=3,p=1) bn relu maxpool(2) flatten dense(64) relu dense(4)' \
  --x "$O/x.npy" --y "$O/y.npy" --epochs 15 --seed 0 -o "$O/vgg.onnx" -q -f
P() {
  d="$1"
  shift
  "$B/xai-prune" "$O/vgg.onnx" --data "$O/x.npy" --labels "$O/y.npy" --test "$O/xt.npy" --test-labels "$O/yt.npy" \
    --step 0.1 --total 0.5 -f --progress none -o "$O/$d" "$@"
}
P conv-10pc --units conv --ref-per-class 10 --save 0.5
P conv-10pc-perlayer --units conv --ref-per-class 10 --per-layer
P conv-10pc-iter --units conv --ref-per-class 10 --iterative
P conv-64 --units conv --ref-size 64
P all-10pc --units all --ref-per-class 10
P all-64 --units all --ref-size 64 --save 0.5
for k in 1 5; do
  P conv-${k}pc --units conv --ref-per-class $k
done
for k in 1 5 10; do
  P conv-${k}pc-l2 --units conv --ref-per-class $k --norm l2
done
P conv-10pc-l1 --units conv --ref-per-class 10 --norm l1
P conv-10pc-before --units conv --ref-per-class 10 --rule '' --norm l1
P conv-10pc-code --units conv --ref-per-class 10 --rule 'Conv=zplus-nobias;Dense=zplus-nobias' --criteria lrp
