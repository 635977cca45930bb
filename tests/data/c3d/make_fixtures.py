#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# make_fixtures.py - writes tiny C3D files with an independent (pure Python) writer, one per
# processor type (84 Intel, 85 DEC/VAX, 86 MIPS) and storage type (int16 / float), into
# tests/data/c3d/, plus fuzz seeds (those files and a few broken ones) into
# tests/fuzz/corpus/c3d/. tests/test-c3d.c checks the values documented here:
#   2 points "Subj:LHEE", "Subj:RHEE"; 4 frames at 50 Hz, first frame 1; POINT:SCALE +-0.25
#   LHEE frame f = (10+f, 20.5, -30.25), residual word 0x0302 (camera mask 3, residual 2*0.25)
#   RHEE frame f = (1.5 f, -f, 100), invalid (word -1) at frame 2
#   analog "Fz" and "EMG", 2 samples per frame (100 Hz), GEN_SCALE 1.5,
#   Fz raw 100+10 s (OFFSET 10, SCALE 0.5), EMG raw s-5 (OFFSET 0, SCALE 2), s = sample index
#   EVENT group: Foot Strike/Left at 0.02 s and 1 min + 0.06 s, Foot Off/Left at 0.04 s;
#   header event "HS1" at 0.04 s.
# The corpus also keeps two inputs found by libFuzzer (not made here): group-id-128.c3d
# (group id -128 overflowed a table) and analog-used-fraction.c3d (ANALOG:USED 0.x as float).
# Usage: /usr/bin/python3 tests/data/c3d/make_fixtures.py   (from the repository root)
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = os.path.join(HERE, "..", "..", "fuzz", "corpus", "c3d")


def enc(proc):
    end = ">" if proc == 86 else "<"

    def i16(v):
        return struct.pack(end + "h", v)

    def f32(v):
        if proc == 85:  # VAX F: IEEE bits of 4*v with the two 16-bit words swapped
            if v == 0:
                return b"\0\0\0\0"
            b = struct.pack("<f", v * 4.0)
            return b[2:4] + b[0:2]
        return struct.pack(end + "f", v)
    return i16, f32


def build(proc, integer):
    i16, f32 = enc(proc)
    scale = 0.25 if integer else -0.25
    recs = []

    def group(gid, name):
        recs.append(bytes([len(name), (256 - gid) & 0xFF]) + name.encode() + i16(3) + b"\0")

    def param(gid, name, typ, dims, data):
        body = bytes([typ & 0xFF, len(dims)]) + bytes(dims) + data + b"\0"
        recs.append(bytes([len(name), gid]) + name.encode() + i16(2 + len(body)) + body)

    def strs(gid, name, items):
        n = max(len(s) for s in items)
        param(gid, name, -1, [n, len(items)], b"".join(s.ljust(n).encode() for s in items))

    group(1, "POINT")
    group(2, "ANALOG")
    group(3, "EVENT")
    group(4, "SUBJECTS")
    param(1, "USED", 2, [], i16(2))
    param(1, "FRAMES", 2, [], i16(4))
    param(1, "DATA_START", 2, [], i16(3))
    param(1, "SCALE", 4, [], f32(scale))
    param(1, "RATE", 4, [], f32(50.0))
    strs(1, "LABELS", ["Subj:LHEE", "Subj:RHEE"])
    param(1, "UNITS", -1, [2], b"mm")
    param(2, "USED", 2, [], i16(2))
    strs(2, "LABELS", ["Fz", "EMG"])
    param(2, "SCALE", 4, [2], f32(0.5) + f32(2.0))
    param(2, "OFFSET", 2, [2], i16(10) + i16(0))
    param(2, "GEN_SCALE", 4, [], f32(1.5))
    param(2, "RATE", 4, [], f32(100.0))
    param(3, "USED", 2, [], i16(3))
    strs(3, "LABELS", ["Foot Strike", "Foot Off", "Foot Strike"])
    strs(3, "CONTEXTS", ["Left", "Left", "Left"])
    param(3, "TIMES", 4, [2, 3], f32(0) + f32(0.02) + f32(0) + f32(0.04) + f32(1) + f32(0.06))
    param(4, "USED", 2, [], i16(1))
    strs(4, "NAMES", ["Subj"])
    strs(4, "LABEL_PREFIXES", ["Subj:"])
    # last record: offset 0 ends the section
    last = bytearray(recs[-1])
    nl = last[0]
    last[2 + nl:4 + nl] = i16(0)
    recs[-1] = bytes(last)
    psec = bytes([1, 0x50, 1, proc]) + b"".join(recs)
    assert len(psec) <= 512
    psec = psec.ljust(512, b"\0")

    h = bytearray(512)
    h[0], h[1] = 2, 0x50
    h[2:4] = i16(2)
    h[4:6] = i16(4)
    h[6:8] = i16(1)
    h[8:10] = i16(4)
    h[12:16] = f32(scale)
    h[16:18] = i16(3)
    h[18:20] = i16(2)
    h[20:24] = f32(50.0)
    h[298:300] = i16(12345)
    h[300:302] = i16(1)
    h[304:308] = f32(0.04)
    h[376] = 1
    h[396:400] = b"HS1 "

    data = b""
    for f in range(4):
        pts = [((10 + f, 20.5, -30.25), 0x0302), ((1.5 * f, -f, 100.0), -1 if f == 2 else 0)]
        for xyz, w in pts:
            if w < 0:
                xyz = (0, 0, 0)
            if integer:
                data += b"".join(i16(int(round(v / 0.25))) for v in xyz) + i16(w)
            else:
                data += b"".join(f32(float(v)) for v in xyz) + f32(float(w))
        for k in range(2):
            s = 2 * f + k
            for raw in (100 + 10 * s, s - 5):
                data += i16(raw) if integer else f32(float(raw))
    data = data.ljust((len(data) + 511) // 512 * 512, b"\0")
    return bytes(h) + psec + data


def main():
    os.makedirs(SEEDS, exist_ok=True)
    files = {}
    for proc, pname in ((84, "intel"), (85, "dec"), (86, "mips")):
        for integer in (0, 1):
            name = "%s-%s.c3d" % (pname, "int" if integer else "real")
            files[name] = build(proc, integer)
    for name, b in files.items():
        open(os.path.join(HERE, name), "wb").write(b)
        open(os.path.join(SEEDS, name), "wb").write(b)
    ok = files["intel-real.c3d"]
    bad = {"truncated.c3d": ok[:700], "bad-magic.c3d": ok[:1] + b"\x51" + ok[2:],
           "huge-points.c3d": ok[:2] + b"\xff\x7f" + ok[4:]}
    for name, b in bad.items():
        open(os.path.join(SEEDS, name), "wb").write(b)


main()
