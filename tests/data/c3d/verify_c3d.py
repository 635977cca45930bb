#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# verify_c3d.py - independent check of the numbers hard-coded in tests/test-c3d.c and
# tests/test-opensim.c. It parses the raw bytes of the shared gait files with struct and
# numpy (Intel/float files only), without using libxai, and prints the reference values.
# Usage: /usr/bin/python3 tests/data/c3d/verify_c3d.py [/work/shared/data/gait]
import struct
import sys

import numpy as np

GAIT = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/gait"


def params(b):
    pstart = (b[0] - 1) * 512
    pos, groups, out = pstart + 4, {}, {}
    while True:
        nl, gid = struct.unpack("bb", b[pos:pos + 2])
        if nl == 0:
            break
        name = b[pos + 2:pos + 2 + abs(nl)].decode("latin1")
        q = pos + 2 + abs(nl)
        nxt = struct.unpack("<h", b[q:q + 2])[0]
        q += 2
        if gid < 0:
            groups[-gid] = name
        else:
            t, nd = struct.unpack("b", b[q:q + 1])[0], b[q + 1]
            dims = list(b[q + 2:q + 2 + nd])
            q += 2 + nd
            n = int(np.prod(dims)) if nd else 1
            raw = b[q:q + abs(t) * n]
            if t == -1:
                val = raw.decode("latin1")
                if nd >= 2:
                    val = [val[i:i + dims[0]].strip() for i in range(0, len(val), dims[0])]
            else:
                val = list(struct.unpack("<%d%s" % (n, {1: "B", 2: "h", 4: "f"}[t]), raw))
            out[(gid, name)] = (t, dims, val)
        if nxt == 0:
            break
        pos = pos + 2 + abs(nl) + nxt
    return {(groups[g], n): v for (g, n), v in out.items()}


def load(path):
    b = open(path, "rb").read()
    p = params(b)
    h = struct.unpack("<256H", b[:512])
    npt = p[("POINT", "USED")][2][0]
    nf = h[4] - h[3] + 1
    A = h[2]
    ds = (h[8] - 1) * 512
    fr = np.frombuffer(b[ds:ds + nf * (npt * 4 + A) * 4], dtype="<f4").reshape(nf, npt * 4 + A)
    pts = fr[:, :npt * 4].reshape(nf, npt, 4)
    an = fr[:, npt * 4:].reshape(nf, -1, max(A // max(h[9], 1), 1)) if A else None
    return p, h, pts, an


for name in ["omcs_exampleOverground.c3d", "opensim_walking2.c3d", "dart_nick_freeform_001.c3d"]:
    p, h, pts, an = load(GAIT + "/" + name)
    labels = p[("POINT", "LABELS")][2]
    print(name, "frames", pts.shape[0], "points", pts.shape[1], "invalid", int((pts[:, :, 3] < 0).sum()))
    for lab in ("LKNE", "RHEE", "Nick01:LFHD", "RTH1"):
        if lab in labels:
            i = labels.index(lab)
            ok = np.where(pts[:, i, 3] >= 0)[0]
            f = 100 if 100 in ok else ok[0]
            print("  %s index %d frame-index %d xyz %r" % (lab, i, f, pts[f, i, :3].tolist()))
    if an is not None:
        alabels = p[("ANALOG", "LABELS")][2]
        for lab in ("Force.Fz1", "Fz1"):
            if lab in alabels:
                ch = alabels.index(lab)
                x = an[:, :, ch].reshape(-1)  # [frames*samples]
                print("  %s ch %d sample 5000 %r max %r at %d" % (lab, ch, float(x[5000]), float(x.max()),
                                                                 int(x.argmax())))
    if ("EVENT", "USED") in p:
        print("  events", p[("EVENT", "USED")][2], p[("EVENT", "TIMES")][2])

# OpenSim text files: column values straight from the text.
for name in ["opensim_subject01_walk1.trc"]:
    rows = open(GAIT + "/" + name).read().split("\n")
    print(name, rows[2].split("\t"), "markers", rows[3].split("\t")[2], "...", [x for x in rows[3].split("\t") if x][-1])
    print("  row 10:", rows[5 + 10].split("\t")[:5] if rows[5] else rows[6 + 10].split("\t")[:5])
for name in ["opensim_subject01_walk1_grf.mot", "opensim_subject01_walk1_ik.mot"]:
    txt = open(GAIT + "/" + name).read().split("\n")
    e = [i for i, r in enumerate(txt) if r.strip() == "endheader"][0]
    lab = txt[e + 1].split()
    d = np.array([[float(x) for x in r.split()] for r in txt[e + 2:] if r.strip()])
    print(name, "cols", len(lab), "rows", d.shape, "last label", lab[-1], "row100", d[100, :4].tolist(),
          "time last", d[-1, 0])
