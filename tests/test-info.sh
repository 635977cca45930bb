#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# test-info.sh - runs the built xai-info (argument 1) on the small fixtures of tests/data and
# on the real recordings of $XAI_SHARED_DIR/data, and checks its JSON against facts computed
# here independently (headers and samples decoded with the Python standard library and
# NumPy; wave for WAV frames; onnx for graphs) or documented in the data's SOURCES.md.
# Exit: 0 pass, 1 failure, 77 when the fixtures pass but the shared data are absent.
# Needs /usr/bin/python3 with numpy and onnx (Debian python3-numpy, python3-onnx).
[ $# -ge 1 ] || { echo "usage: $0 PATH/TO/xai-info" >&2; exit 2; }
[ -x /usr/bin/python3 ] || { echo "SKIP: /usr/bin/python3 missing"; exit 77; }
exec /usr/bin/python3 - "$@" <<'PYEOF'
import glob, gzip, json, os, struct, subprocess, sys, tempfile, wave
import numpy as np

EXE = sys.argv[1]
DATA = os.environ.get("XAI_TEST_DATA") or os.path.join(os.path.dirname(EXE), "..", "tests", "data")
SHARED = os.environ.get("XAI_SHARED_DIR", "")
failures = 0
checks = 0


def check(cond, what):
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        print("FAIL:", what)


def close(a, b, rel=1e-5, abs_=1e-6):
    return a is not None and b is not None and abs(a - b) <= abs_ + rel * abs(b)


def run(*args):
    p = subprocess.run([EXE, *args], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def info(path):
    rc, out, err = run(path, "--json")
    if rc != 0:
        check(False, "%s: exit %d: %s" % (path, rc, err.strip()))
        return None
    try:
        return json.loads(out)  # exactly one JSON value, nothing else
    except ValueError as e:
        check(False, "%s: stdout is not one JSON object: %s" % (path, e))
        return None


def text_ok(path, *needles):
    rc, out, err = run(path)
    check(rc == 0 and err == "", "%s: text mode exit %d, stderr %r" % (path, rc, err))
    for n in needles:
        check(n in out, "%s: text output lacks %r" % (path, n))


def bad(path, *args, code=1):
    rc, out, err = run(path, *args)
    lines = err.strip().splitlines()
    check(rc == code, "%s: expected exit %d, got %d" % (path, code, rc))
    check(out == "", "%s: nothing on stdout on error, got %r" % (path, out[:80]))
    if code == 1:
        check(len(lines) == 1 and os.path.basename(path) in lines[0] and lines[0].startswith("xai-info: "),
              "%s: want one error line naming the file, got %r" % (path, err))


# --- command line ------------------------------------------------------------------
rc, out, err = run("--help")
check(rc == 0 and all(s in out for s in ("SYNOPSIS", "OPTIONS", "EXAMPLES", "--json")), "--help")
rc, out, err = run("--version")
check(rc == 0 and out.startswith("xai-info") and any(c.isdigit() for c in out), "--version")
rc, out, err = run()
check(rc == 2 and "xai-info" in err, "no FILE: exit 2")
rc, out, err = run("--bogus", "x.npy")
check(rc == 2 and "--bogus" in err, "unknown option: exit 2 naming it")
rc, out, err = run("a.npy", "b.npy")
check(rc == 2, "two FILEs: exit 2")

tmp = tempfile.mkdtemp(prefix="xai-info-test-")
bad(os.path.join(tmp, "does-not-exist.edf"))
bad(tmp)  # a directory
empty = os.path.join(tmp, "empty.bin")
open(empty, "wb").close()
bad(empty)
bad(os.path.join(DATA, "audio", "garbage.bin"))

# --- NPY: shape and dtype of every fixture, compared with numpy's own header reader --
for f in sorted(glob.glob(os.path.join(DATA, "npy", "*.npy"))):
    with open(f, "rb") as fh:
        v = np.lib.format.read_magic(fh)
        shape, fortran, dtype = np.lib.format._read_array_header(fh, v)
    j = info(f)
    if not j:
        continue
    check(j["format"] == "npy", f + ": format")
    check(tuple(j["shape"]) == tuple(shape), f + ": shape %r != %r" % (j["shape"], shape))
    want = "structured" if dtype.names else dtype.name
    check(j["dtype"] == want, f + ": dtype %r != %r" % (j["dtype"], want))
    check(j["fortran_order"] == fortran, f + ": fortran_order")
    numeric = (dtype.kind == "f" and dtype.itemsize in (4, 8)) or dtype.kind in "iub"
    if numeric and not dtype.names and np.prod(shape) > 0:
        a = np.load(f).astype(np.float64)
        fin = a[np.isfinite(a)]
        check(close(j["min"], fin.min()) and close(j["max"], fin.max()) and
              close(j["mean"], fin.mean(), rel=1e-5, abs_=1e-5), f + ": min/max/mean")
text_ok(os.path.join(DATA, "npy", "f4-4d.npy"), "npy", "2x1x3x2", "float32")
# truncated and malformed NPY
src = open(os.path.join(DATA, "npy", "f4-le-2x3.npy"), "rb").read()
for name, blob in (("trunc-data.npy", src[:-4]), ("trunc-header.npy", src[:20]),
                   ("more-than-stored.npy", src.replace(b"(2, 3)", b"(9, 9)")),
                   ("no-shape.npy", src.replace(b"'shape'", b"'shapf'"))):
    p = os.path.join(tmp, name)
    open(p, "wb").write(blob)
    bad(p)
# a descr that is no NumPy type string: the reader's error, naming the file


def with_descr(descr):
    """src with another descr, the header's padding giving up or taking the difference"""
    h = src.index(b"\n") + 1
    body = src[:h - 1].replace(b"'<f4'", b"'" + descr + b"'").rstrip(b" ")
    return body + b" " * (h - 1 - len(body)) + b"\n" + src[h:]


for name, descr in (("descr-junk.npy", b"<fx"), ("descr-huge.npy", b"<i99999999999999999999"), ("descr-none.npy", b"")):
    blob = with_descr(descr)
    p = os.path.join(tmp, name)
    open(p, "wb").write(blob)
    check(len(blob) == len(src), name + ": the header kept its length")
    bad(p)
    rc, out, err = run(p)
    check("bad header" in err and "descr" in err, "%s: the reader's message: %r" % (name, err))

# --- ONNX: raw op list, opset, inputs/outputs against the onnx package ---------------
try:
    import onnx
except ImportError:
    onnx = None
for f in sorted(glob.glob(os.path.join(DATA, "onnx", "ops", "*.onnx")) +
                glob.glob(os.path.join(DATA, "onnx", "conserve", "*.onnx"))):
    j = info(f)
    if not j or onnx is None:
        continue
    m = onnx.load(f)
    g = m.graph
    inits = {t.name for t in g.initializer}
    check(j["format"] == "onnx", f + ": format")
    check(j["opset"] == [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")][0], f + ": opset")
    check(j["ops"] == [n.op_type for n in g.node], f + ": ops %r" % j["ops"])

    def shp(vi):
        return [d.dim_value if d.HasField("dim_value") else (d.dim_param if d.HasField("dim_param") else None)
                for d in vi.type.tensor_type.shape.dim]
    ins = [i for i in g.input if i.name not in inits]
    check([i["name"] for i in j["inputs"]] == [i.name for i in ins], f + ": input names")
    check([i["shape"] for i in j["inputs"]] == [shp(i) for i in ins], f + ": input shapes")
    check([o["shape"] for o in j["outputs"]] == [shp(o) for o in g.output], f + ": output shapes")
    check(j["libxai"]["loadable"] is True, f + ": libxai loads it")
j = info(os.path.join(DATA, "onnx", "ops", "dense_softmax.onnx"))
if j:
    check(j["ops"][-1] == "Softmax" and j["opset"] == 13, "dense_softmax: raw list keeps Softmax, opset 13")
    check(j["inputs"][0]["shape"] == [1, 5] and j["outputs"][0]["shape"] == [1, 3], "dense_softmax shapes")
    check(j["libxai"]["output_shape"][-1] == 3, "dense_softmax: libxai logits shape")
text_ok(os.path.join(DATA, "onnx", "ops", "conv2d.onnx"), "onnx", "Conv", "Gemm", "opset")
bad(os.path.join(DATA, "onnx", "bad", "garbage.onnx"))
bad(os.path.join(DATA, "onnx", "bad", "truncated.onnx"))
j = info(os.path.join(DATA, "onnx", "bad", "unknown_op.onnx"))  # described, but not loadable
if j:
    check(j["libxai"]["loadable"] is False and j["libxai"]["error"], "unknown_op: libxai refuses with a reason")

# --- audio fixtures (facts from tests/data/audio/make_fixtures.py) --------------------
for name, rate, ch, frames, sub, cont in (("stereo_s16.wav", 16000, 2, 100, "PCM_16", "WAV"),
                                          ("stereo_s16.flac", 16000, 2, 100, "PCM_16", "FLAC"),
                                          ("stereo_s16.aiff", 16000, 2, 100, "PCM_16", "AIFF"),
                                          ("mono_float.wav", 8000, 1, 50, "FLOAT", "WAV"),
                                          ("mono_ulaw.au", 8000, 1, 64, "ULAW", "AU")):
    j = info(os.path.join(DATA, "audio", name))
    if j:
        check(j["format"] == "audio" and j["sample_rate"] == rate and j["channels"] == ch and
              j["frames"] == frames and j["subformat"] == sub and j["container"] == cont and
              close(j["duration_s"], frames / rate), name + ": %r" % j)
text_ok(os.path.join(DATA, "audio", "stereo_s16.wav"), "PCM_16", "16000")
for name in ("bad_magic.wav", "zero_rate.wav", "zero_channels.wav", "truncated_header.wav", "flac_zero_rate.flac"):
    bad(os.path.join(DATA, "audio", name))

# --- C3D fixtures (facts from tests/data/c3d/make_fixtures.py) ------------------------
for name in ("intel-real", "intel-int", "dec-real", "dec-int", "mips-real", "mips-int"):
    j = info(os.path.join(DATA, "c3d", name + ".c3d"))
    if not j:
        continue
    check(j["format"] == "c3d" and j["point_rate"] == 50 and j["analog_rate"] == 100 and j["frames"] == 4,
          name + ": rates/frames")
    check(j["processor"] == name.split("-")[0], name + ": processor")
    check(j["points"] == ["LHEE", "RHEE"] and j["analog"] == ["Fz", "EMG"], name + ": labels (prefix stripped)")
    ev = [(e["label"], e["context"], round(e["time_s"], 4)) for e in j["events"] if e["source"] == "EVENT"]
    check(ev == [("Foot Strike", "Left", 0.02), ("Foot Off", "Left", 0.04), ("Foot Strike", "Left", 60.06)],
          name + ": events %r" % ev)
    check(any(e["label"] == "HS1" and close(e["time_s"], 0.04) for e in j["events"]), name + ": header event")
text_ok(os.path.join(DATA, "c3d", "intel-real.c3d"), "Foot Strike", "LHEE")
c3d = open(os.path.join(DATA, "c3d", "intel-real.c3d"), "rb").read()
p = os.path.join(tmp, "trunc.c3d")
open(p, "wb").write(c3d[:700])
bad(p)

# --- NIfTI: tiny images written here, affine chosen the nibabel way -------------------
def nifti1(path, dims, pixdim, datatype, data, qcode=0, scode=0, srow=None, quat=(0, 0, 0), qoff=(0, 0, 0),
           slope=1.0, inter=0.0, units=10):
    h = bytearray(348)
    struct.pack_into("<i", h, 0, 348)
    d = [len(dims)] + list(dims) + [1] * (7 - len(dims))
    struct.pack_into("<8h", h, 40, *d)
    struct.pack_into("<hh", h, 70, datatype, data.dtype.itemsize * 8)
    struct.pack_into("<8f", h, 76, *([1.0] + list(pixdim) + [1.0] * (7 - len(pixdim))))
    struct.pack_into("<f", h, 108, 352.0)
    struct.pack_into("<ff", h, 112, slope, inter)
    h[123] = units
    struct.pack_into("<hh", h, 252, qcode, scode)
    struct.pack_into("<6f", h, 256, *quat, *qoff)
    if srow is not None:
        struct.pack_into("<12f", h, 280, *np.asarray(srow, dtype=np.float64).ravel())
    h[344:348] = b"n+1\0"
    open(path, "wb").write(bytes(h) + b"\0" * 4 + data.astype(data.dtype.newbyteorder("<")).tobytes(order="F"))


vol = (np.arange(4 * 3 * 2, dtype=np.int16).reshape(4, 3, 2, order="F") - 7)
p = os.path.join(tmp, "fallback.nii")
nifti1(p, (4, 3, 2), (2.0, 3.0, 4.0), 4, vol, slope=0.5, inter=1.0)
j = info(p)
if j:
    # nibabel get_base_affine: diag(-dx, dy, dz), centre voxel at the origin
    want = [[-2, 0, 0, 3.0], [0, 3, 0, -3.0], [0, 0, 4, -2.0], [0, 0, 0, 1]]
    check(j["format"] == "nifti1" and j["dim"] == [4, 3, 2] and j["pixdim"] == [2, 3, 4], "fallback.nii: dims")
    check(j["affine_source"] == "fallback" and np.allclose(j["affine"], want), "fallback.nii: affine %r" % j["affine"])
    s = vol * 0.5 + 1.0
    check(close(j["min"], s.min()) and close(j["max"], s.max()) and close(j["mean"], s.mean()), "fallback.nii: scaled stats")
    check(j["datatype"] == "int16" and j["qform_code"] == 0 and j["sform_code"] == 0, "fallback.nii: codes")
srow = [[0, -2, 0, 10], [3, 0, 0, -20], [0, 0, 4, 30]]
p = os.path.join(tmp, "sform.nii")
nifti1(p, (4, 3, 2), (3.0, 2.0, 4.0), 16, vol.astype(np.float32), qcode=1, scode=2, srow=srow,
       quat=(0, 0, 1), qoff=(5, 6, 7))
j = info(p)
if j:
    check(j["affine_source"] == "sform" and np.allclose(j["affine"], srow + [[0, 0, 0, 1]]), "sform.nii: sform wins")
    check(j["qform_code"] == 1 and j["sform_code"] == 2 and j["datatype"] == "float32", "sform.nii: codes")
p = os.path.join(tmp, "qform.nii")
# quaternion (b,c,d) = (0,0,1): 180 degrees about z -> diag(-1,-1,1) * pixdim, offsets as stored
nifti1(p, (4, 3, 2), (3.0, 2.0, 4.0), 16, vol.astype(np.float32), qcode=1, scode=0, quat=(0, 0, 1), qoff=(5, 6, 7))
j = info(p)
if j:
    want = [[-3, 0, 0, 5], [0, -2, 0, 6], [0, 0, 4, 7], [0, 0, 0, 1]]
    check(j["affine_source"] == "qform" and np.allclose(j["affine"], want, atol=1e-5), "qform.nii: %r" % j.get("affine"))
p = os.path.join(tmp, "trunc.nii")
open(p, "wb").write(open(os.path.join(tmp, "sform.nii"), "rb").read()[:360])
bad(p)

# --- hostile inputs: every fuzz seed (valid and malformed files of each reader) --------
# Either a JSON description (exit 0) or one error line naming the file (exit 1); never a
# crash, sanitizer report or hang.
corpus = sorted(glob.glob(os.path.join(DATA, "..", "fuzz", "corpus", "*", "*")))
check(len(corpus) > 20, "fuzz seed corpus found")
for f in corpus:
    try:
        p = subprocess.run([EXE, f, "--json"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=60, errors="replace")
    except subprocess.TimeoutExpired:
        check(False, f + ": hang")
        continue
    lines = p.stderr.strip().splitlines()
    if p.returncode == 0:
        try:
            ok = isinstance(json.loads(p.stdout).get("format"), str) and p.stderr == ""
        except ValueError:
            ok = False
        check(ok, f + ": exit 0 without one clean JSON object")
    else:
        check(p.returncode == 1 and len(lines) == 1 and lines[0].startswith("xai-info: ") and
              os.path.basename(f) in lines[0], f + ": exit %d, stderr %r" % (p.returncode, p.stderr[-300:]))

# --- real recordings ----------------------------------------------------------------
D = os.path.join(SHARED, "data") if SHARED else ""
if not D or not os.path.isdir(D):
    print("%d checks, %d failed; shared data absent: real-recording checks skipped" % (checks, failures))
    sys.exit(1 if failures else 77)


def edf_header(path):
    """EDF/BDF header and physical samples, decoded here (edfplus.info spec)."""
    raw = open(path, "rb").read()
    ns = int(raw[252:256])
    nrec = int(raw[236:244])
    recdur = float(raw[244:252])
    f = lambda off, w: [raw[256 + off * ns + i * w:256 + off * ns + (i + 1) * w].decode("latin-1").strip() for i in range(ns)]
    labels = f(0, 16)
    units = f(96, 8)
    pmin = np.array(f(104, 8), float); pmax = np.array(f(112, 8), float)
    dmin = np.array(f(120, 8), float); dmax = np.array(f(128, 8), float)
    spr = [int(x) for x in f(216, 8)]
    bdf = raw[0] == 0xFF
    bps = 3 if bdf else 2
    start = 256 + 256 * ns
    rec_bytes = sum(spr) * bps
    body = np.frombuffer(raw[start:start + nrec * rec_bytes], np.uint8).reshape(nrec, rec_bytes)
    sig, dig, off = [], [], 0
    for i in range(ns):
        b = body[:, off:off + spr[i] * bps].reshape(-1, bps).astype(np.int32)
        off += spr[i] * bps
        if bdf:
            v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
            v = np.where(v >= 1 << 23, v - (1 << 24), v)
        else:
            v = (b[:, 0] | (b[:, 1] << 8)).astype(np.int16).astype(np.int32)
        sig.append(pmin[i] + (v - dmin[i]) * (pmax[i] - pmin[i]) / (dmax[i] - dmin[i]))
        dig.append(v)
    ann = []
    for i in range(ns):
        if labels[i] in ("EDF Annotations", "BDF Annotations"):
            off = sum(spr[:i]) * bps
            for r in range(nrec):
                blk = bytes(body[r, off:off + spr[i] * bps]).decode("utf-8", "replace")
                for tal in blk.split("\x00"):
                    if not tal:
                        continue
                    parts = tal.split("\x14")
                    on_dur = parts[0].split("\x15")
                    for t in parts[1:]:
                        if t:
                            ann.append((float(on_dur[0]), float(on_dur[1]) if len(on_dur) > 1 and on_dur[1] else 0.0, t))
    return dict(labels=labels, units=units, spr=spr, nrec=nrec, recdur=recdur, sig=sig, dig=dig, ann=ann)


def check_edf(path, fmt):
    # every recording must be read: the PhysioNet files (non-blank prefilter on the EDF+
    # annotation signal) and mne_test.bdf (leading blanks in the record count) included
    j = info(path)
    if not j:
        return None
    h = edf_header(path)
    keep = [i for i, l in enumerate(h["labels"]) if l not in ("EDF Annotations", "BDF Annotations")]
    name = os.path.basename(path)
    check(j["format"] == fmt, name + ": format %r" % j["format"])
    check([c["label"] for c in j["channels"]] == [h["labels"][i] for i in keep], name + ": labels")
    check([c["unit"] for c in j["channels"]] == [h["units"][i] for i in keep], name + ": units")
    ok = True
    for c, i in zip(j["channels"], keep):
        x = h["sig"][i]
        rate = h["spr"][i] / h["recdur"]
        ok &= close(c["sample_rate"], rate) and c["samples"] == len(x)
        tol = 1e-6 * max(1.0, abs(x).max())
        ok &= close(c["min"], x.min(), 1e-6, tol) and close(c["max"], x.max(), 1e-6, tol) and close(c["mean"], x.mean(), 1e-5, tol)
    check(ok, name + ": per-channel rate, samples, min/max/mean in physical units")
    got = [(round(a["onset_s"], 4), round(a["duration_s"], 4), a["text"]) for a in j["annotations"]]
    want = [(round(o, 4), round(d, 4), t) for o, d, t in h["ann"] if not (t == "" or t.isspace())]
    check(got == want, name + ": annotations (%d vs %d)" % (len(got), len(want)))
    if "Status" in h["labels"]:
        k = h["labels"].index("Status")
        low = h["dig"][k] & 0xFFFF
        prev = np.concatenate([[0], low[:-1]])
        idx = np.nonzero((low != prev) & (low != 0))[0]
        rate = h["spr"][k] / h["recdur"]
        ev = [(e["sample"], e["value"], round(e["onset_s"], 6)) for e in j.get("trigger_events", [])]
        check(ev == [(int(i), int(low[i]), round(i / rate, 6)) for i in idx] and len(ev) > 0,
              name + ": Status trigger events %r" % ev[:5])
    return j


eeg = os.path.join(D, "eeg")
for run_ in ("R03", "R04"):
    j = check_edf(os.path.join(eeg, "eegmmidb_S001%s.edf" % run_), "edf+")
    if j:
        check(len(j["channels"]) == 64 and all(c["sample_rate"] == 160 for c in j["channels"]), run_ + ": 64 ch at 160 Hz")
        check(all(c["samples"] == 20000 for c in j["channels"]) and j["duration_s"] == 125, run_ + ": 125 s")
        texts = [a["text"] for a in j["annotations"]]
        check(len(texts) == 30 and texts.count("T0") == 15 and texts.count("T1") == 8 and texts.count("T2") == 7,
              run_ + ": 30 annotations: T0 x15, T1 x8, T2 x7")
        check(j["annotations"][0]["onset_s"] == 0 and 4.0 < j["annotations"][0]["duration_s"] < 4.3, run_ + ": first annotation")
        check(all(c["unit"] == "uV" and c["scale_to_si"] == 1e-6 for c in j["channels"]), run_ + ": uV, MNE scale 1e-6")
j = check_edf(os.path.join(eeg, "mne_test.bdf"), "bdf")
if j:
    check(len(j["channels"]) == 73 and j["channels"][-1]["label"] == "Status" and j["sample_rate"] == 2048, "mne_test.bdf")
    check(close(j["duration_s"], 1.0) and all(c["samples"] == 2048 for c in j["channels"]), "mne_test.bdf: 1 record of 1 s")
j = check_edf(os.path.join(eeg, "mne_test_bdf_stim_channel.bdf"), "bdf")
if j:
    check([(e["sample"], e["value"]) for e in j["trigger_events"]][:3] == [(242, 4), (310, 2), (952, 1)],
          "bdf stim: first triggers")
    check([c["label"] for c in j["channels"]] == ["C3", "C4", "Cz", "Status"] and
          all(c["samples"] == 5000 for c in j["channels"]), "bdf stim: 4 channels x 5000 at 500 Hz")
j = check_edf(os.path.join(eeg, "mne_test_edf_stim_channel.edf"), "edf")
if j:
    check(len(j["channels"]) == 25 and close(j["duration_s"], 9.59375), "edf stim: 25 channels, 9.59375 s")
check_edf(os.path.join(eeg, "capslpdb_brux2_100s.edf"), "edf") if os.path.exists(os.path.join(eeg, "capslpdb_brux2_100s.edf")) else None
text_ok(os.path.join(eeg, "eegmmidb_S001R04.edf"), "edf+", "Fc5.", "T1")

# GDF written by save2gdf (biosig-tools) from the EDF+: read by BioSig, same channels,
# statistics and annotations as the EDF description, and "reader" names each library
save2gdf = next((os.path.join(d, "save2gdf") for d in os.environ.get("PATH", "").split(":")
                 if os.access(os.path.join(d, "save2gdf"), os.X_OK)), None)
if save2gdf:
    src = os.path.join(eeg, "eegmmidb_S001R04.edf")
    gdf = os.path.join(tmp, "S001R04.gdf")
    subprocess.run([save2gdf, "-f=GDF", src, gdf], capture_output=True)
    e, g = info(src), info(gdf)
    if e and g:
        check(e["reader"] == "EDFlib" and g["reader"] == "BioSig" and g["format"] == "gdf",
              "GDF: reader %r / %r, format %r" % (e["reader"], g["reader"], g["format"]))
        check([c["label"] for c in g["channels"]] == [c["label"] for c in e["channels"]], "GDF: labels")
        check(all(close(a[k], b[k]) for a, b in zip(g["channels"], e["channels"])
                  for k in ("min", "max", "mean", "sample_rate", "samples")), "GDF: channel statistics")
        check([(a["text"], round(a["onset_s"], 6), round(a["duration_s"], 6)) for a in g["annotations"]] ==
              [(a["text"], round(a["onset_s"], 6), round(a["duration_s"], 6)) for a in e["annotations"]],
              "GDF: annotations")
        text_ok(gdf, "gdf", "BioSig", "Fc5.")
else:
    print("SKIP: GDF description: save2gdf (biosig-tools) not installed")
text_ok(os.path.join(eeg, "mne_test_edf_stim_channel.edf"), "edf", "DIG DTRIG")

bvdir = os.path.join(eeg, "brainvision")
for f in ("test.vhdr", "test.vmrk", "test.eeg"):  # any of the triplet names the recording
    j = info(os.path.join(bvdir, f))
    if not j:
        continue
    check(j["format"] == "brainvision" and len(j["channels"]) == 32 and j["sample_rate"] == 1000 and
          all(c["samples"] == 7900 for c in j["channels"]), f + ": 32 channels x 7900 at 1 kHz")
    raw = np.fromfile(os.path.join(bvdir, "test.eeg"), "<i2").reshape(-1, 32).astype(np.float64) * 0.5
    ok = all(close(c["min"], raw[:, i].min()) and close(c["max"], raw[:, i].max()) and
             close(c["mean"], raw[:, i].mean(), 1e-5, 1e-4)
             for i, c in enumerate(j["channels"]) if c["unit"] in ("\u00b5V",) and c["resolution"] == 0.5)
    check(ok, f + ": values in uV (INT_16 * 0.5)")
    texts = [a["text"] for a in j["annotations"]]
    check("Stimulus/S253" in texts and "New Segment/" in texts, f + ": markers as MNE descriptions %r" % texts[:4])
    check(j["annotations"][0]["onset_s"] == 0, f + ": 1-based marker position 1 is onset 0")

fmri = os.path.join(D, "fmri")
j = info(os.path.join(fmri, "nibabel_example4d.nii.gz"))
if j:
    check(j["format"] == "nifti1" and j["dim"] == [128, 96, 24, 2], "example4d: dims %r" % j["dim"])
    check(close(j["tr_s"], 2.0) and j["tr_assumed_ms"] is True and close(j["pixdim"][3], 2000), "example4d: TR 2 s")
    check(j["datatype"] == "int16", "example4d: int16")
    raw = gzip.open(os.path.join(fmri, "nibabel_example4d.nii.gz")).read()
    # sform_code 1 > 0: nibabel's get_best_affine is the stored srow_x/y/z
    check(struct.unpack("<hh", raw[252:256]) == (1, 1) and j["affine_source"] == "sform", "example4d: sform")
    want = np.vstack([np.array(struct.unpack("<12f", raw[280:328])).reshape(3, 4), [0, 0, 0, 1]])
    check(np.allclose(j["affine"], want, rtol=0, atol=1e-9), "example4d: affine %r" % j["affine"])
    check(abs(j["affine"][0][0] + 2) < 1e-6 and abs(j["affine"][0][3] - 117.8551) < 1e-3, "example4d: affine values")
    off = int(struct.unpack("<f", raw[108:112])[0])
    x = np.frombuffer(raw[off:off + 128 * 96 * 24 * 2 * 2], "<i2").astype(np.float64)
    check(j["min"] == x.min() and j["max"] == x.max() and close(j["mean"], x.mean(), 1e-6), "example4d: data range")
j = info(os.path.join(fmri, "nibabel_example_nifti2.nii.gz"))
if j:
    check(j["format"] == "nifti2" and len(j["affine"]) == 4 and j["min"] is not None, "nifti2 file read")
j = info(os.path.join(fmri, "haxby2001_sub001", "bold_1slice_allruns.nii.gz"))
if j:
    check(j["dim"] == [40, 20, 1, 1452] and close(j["tr_s"], 2.5) and j["datatype"] == "int16", "haxby 1-slice")
j = info(os.path.join(fmri, "haxby2001_sub001", "masks_25mm", "vt.nii.gz"))
if j:
    check(j["dim"] == [6, 10, 10] and j["datatype"] == "float32" and j["min"] == 0 and j["max"] == 1, "vt mask")
text_ok(os.path.join(fmri, "nibabel_example4d.nii.gz"), "nifti1", "affine", "128x96x24x2")

gait = os.path.join(D, "gait")
j = info(os.path.join(gait, "omcs_exampleOverground.c3d"))
if j:
    check(j["point_rate"] == 100 and j["analog_rate"] == 2400 and j["frames"] == 459, "omcs: rates/frames")
    check(len(j["points"]) == 85 and "LASI" in j["points"] and "LKneeAngles" in j["points"], "omcs: points")
    check(len(j["analog"]) == 36, "omcs: 36 analog")
    ev = [(e["label"], e["context"]) for e in j["events"]]
    check(len(ev) == 5 and ("Foot Strike", "Left") in ev and ("Foot Strike", "Right") in ev, "omcs: events %r" % ev)
j = info(os.path.join(gait, "opensim_walking2.c3d"))
if j:
    check(j["point_rate"] == 250 and j["frames"] == 1249 and len(j["points"]) == 44 and
          j["analog_rate"] == 2000 and len(j["analog"]) == 12 and j["events"] == [], "walking2")
j = info(os.path.join(gait, "dart_nick_freeform_001.c3d"))
if j:
    check(j["point_rate"] == 120 and j["frames"] == 1101 and "LFHD" in j["points"] and j["analog"] == [], "nick freeform")
j = info(os.path.join(gait, "opensim_subject01_walk1.trc"))
if j:
    check(j["format"] == "trc" and len(j["markers"]) == 41 and j["data_rate"] == 60 and j["frames"] == 151 and
          j["units"] == "mm", "trc")
j = info(os.path.join(gait, "opensim_subject01_walk1_grf.mot"))
if j:
    check(j["format"] == "mot" and j["rows"] == 1501 and len(j["columns"]) == 19, "grf mot")
j = info(os.path.join(gait, "opensim_subject01_walk1_ik.mot"))
if j:
    check(j["format"] == "mot" and j["rows"] == 211 and len(j["columns"]) == 24 and j["in_degrees"] is True, "ik mot")

speech = os.path.join(D, "speech")
wavs = sorted(glob.glob(os.path.join(speech, "fsdd_subset", "recordings", "*.wav")))[::40]
wavs += sorted(glob.glob(os.path.join(speech, "real_digits", "*", "*.wav")))[::10]
wavs += sorted(glob.glob(os.path.join(speech, "codec2_sentences", "*.wav")))
check(len(wavs) >= 20, "speech files found")
for f in wavs:
    j = info(f)
    if not j:
        continue
    with wave.open(f) as w:
        check(j["frames"] == w.getnframes() and j["sample_rate"] == w.getframerate() == 8000 and
              j["channels"] == w.getnchannels() and j["subformat"] == "PCM_16" and
              close(j["duration_s"], w.getnframes() / 8000), f + ": %r" % j)

print("%d checks, %d failed" % (checks, failures))
sys.exit(1 if failures else 0)
PYEOF
