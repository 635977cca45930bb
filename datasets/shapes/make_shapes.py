#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A small image-like set for pruning studies: 16 x 16 single-channel images of four
classes (a horizontal bar, a vertical bar, a diagonal, a disc) at a random place (+-3 px),
with the nuisances of real acquisitions: each group ("site") has its own gain and offset,
each image its own contrast, Gaussian noise, and a bright corner patch on half the images of
every class (a decoy that carries no class information). Groups 1-6 are for training,
7-9 are held out.

Usage: make_shapes.py OUTDIR [SEED]  ->  x.npy y.npy (training), xt.npy yt.npy (held out)
"""
import sys

import numpy as np

H = 16


def shape(rng, c):
    img = np.zeros((H, H))
    cy, cx = 8 + rng.integers(-3, 4, 2)
    yy, xx = np.mgrid[0:H, 0:H]
    if c == 0:
        img[(abs(yy - cy) <= 1) & (abs(xx - cx) <= 5)] = 1
    elif c == 1:
        img[(abs(xx - cx) <= 1) & (abs(yy - cy) <= 5)] = 1
    elif c == 2:
        img[(abs((yy - cy) - (xx - cx)) <= 1) & (abs(xx - cx) <= 4)] = 1
    else:
        img[(yy - cy) ** 2 + (xx - cx) ** 2 <= 9] = 1
    return img


def make(rng, groups, per_group):
    x, y = [], []
    for _ in groups:
        gain, offset = rng.uniform(0.7, 1.3), rng.normal(0, 0.3)
        for _ in range(per_group):
            c = int(rng.integers(0, 4))
            img = shape(rng, c) * gain * rng.uniform(0.6, 1.4) + offset + rng.normal(0, 0.6, (H, H))
            if rng.random() < 0.5:
                img[0:3, 0:3] += rng.uniform(0.5, 1.5)
            x.append(img[None])
            y.append(c)
    return np.array(x, np.float32), np.array(y, np.float32)


def main():
    out, seed = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0
    rng = np.random.default_rng(seed)
    for suffix, groups in (("", range(6)), ("t", range(6, 9))):
        x, y = make(rng, groups, 120)
        np.save(f"{out}/x{suffix}.npy", x)
        np.save(f"{out}/y{suffix}.npy", y)


if __name__ == "__main__":
    main()
