#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The README's pruning table: a VGG-style CNN trained on make_shapes.py's training sites,
# pruned by every criterion (5 seeds of 64 reference images each), measured on the held-out
# sites, globally and per layer. Usage: prune_table.sh BUILD_DIR OUTDIR
set -eu
B="$1/apps"
O="$2"
mkdir -p "$O"
/usr/bin/python3 "$(dirname "$0")/make_shapes.py" "$O" 0
"$B/xai-train" --arch 'conv2d(16,k=3,p=1) bn relu conv2d(16,k=3,p=1) bn relu maxpool(2) conv2d(32,k=3,p=1) bn relu maxpool(2) flatten dense(64) relu dense(4)' \
  --x "$O/x.npy" --y "$O/y.npy" --epochs 15 --seed 0 -o "$O/vgg.onnx" -q -f
for mode in global per-layer; do
  flag=""
  [ "$mode" = per-layer ] && flag=--per-layer
  "$B/xai-prune" "$O/vgg.onnx" --data "$O/x.npy" --labels "$O/y.npy" --test "$O/xt.npy" \
    --test-labels "$O/yt.npy" $flag --save 0.5 -o "$O/$mode" -f --progress none
done
