#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# test-xai-eeg.sh - end-to-end tests of xai-eeg (argument 1) on data written by the
# datasets generator gen_eeg (argument 2), with a planted ground truth:
#   - train on runs 1-2 (60 epochs), explain the held-out run 3 (EDF+ and the same data as
#     BrainVision) with LRP (epsilon-plus-flat), gradient and gradient x input;
#   - ground truth: the planted region FC3, C3, CP3, FC4, C4, CP4 (the channels that get
#     weight >= 0.5 from the two desynchronising sources) is 6 of 25 channels = 24 % of the
#     input. Uniform relevance would give it 24 % of the positive relevance; we require
#     >= 42 % for LRP (1.75x its share: far above chance, and below the 46-48 % that models
#     trained with seeds 0-3 reach, so that a change of BLAS summation order cannot flip it)
#     and that LRP localises at least as well as the gradient (31-36 % for the same seeds).
#     Both numbers are printed;
#   - output contents: shapes, tables consistent with the .npy, sidecars with provenance,
#     the preprocessing record in the model;
#   - errors: mismatched model (not an xai-eeg model), missing channel, other sample rate,
#     unknown class, refusing to overwrite (and --force), usage errors and exit codes;
#   - real data (skipped without $XAI_SHARED_DIR): EEGMMIDB S001 R04 imagined left/right
#     fist, 5-fold cross-validated accuracy (reported, not asserted: 30 epochs of one
#     subject may well be at chance).
# Exit: 0 pass, 1 failure. Needs /usr/bin/python3 with numpy and onnx.
[ $# -ge 2 ] || { echo "usage: $0 XAI_EEG GEN_EEG" >&2; exit 2; }
[ -x /usr/bin/python3 ] || { echo "SKIP: /usr/bin/python3 missing"; exit 77; }
exec /usr/bin/python3 - "$@" <<'PYEOF'
import csv, json, os, shutil, subprocess, sys, tempfile
import numpy as np

EXE, GEN = sys.argv[1], sys.argv[2]
SHARED = os.environ.get("XAI_SHARED_DIR", "")
SRC = os.environ.get("XAI_SOURCE_ROOT", "")
failures = 0
checks = 0
ROI = {"FC3", "C3", "CP3", "FC4", "C4", "CP4"}


def check(cond, what):
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        print("FAIL:", what)
    return cond


def run(*args, env=None):
    p = subprocess.run([EXE, *args], stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env)
    return p.returncode, p.stdout, p.stderr


def expect(code, words, *args):
    rc, out, err = run(*args)
    ok = check(rc == code, "exit %d (want %d): %s\n%s" % (rc, code, " ".join(args), err.strip()))
    if words:
        ok = check(words in err, "stderr lacks %r: %s\n%s" % (words, " ".join(args), err.strip())) and ok
    return ok, out, err


def table(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def roi_share(R, names):
    m = np.array([n in ROI for n in names])
    pos = np.clip(R, 0, None).sum(axis=(0, 2))
    return float(pos[m].sum() / pos.sum())


tmp = tempfile.mkdtemp(prefix="xai-eeg-test-")
try:
    data = os.path.join(tmp, "data")
    r = subprocess.run([GEN, "--seed", "1", "--runs", "3", "--trials", "30", "--brainvision", data],
                       capture_output=True, text=True)
    check(r.returncode == 0, "gen_eeg failed: " + r.stderr)
    runs = [os.path.join(data, "sub-01_task-mi_run-%d_eeg.edf" % i) for i in (1, 2, 3)]
    for f in runs:
        check(os.path.getsize(f) > 100000, "generated " + f)

    # ---- usage and help
    ok, out, _ = expect(0, "", "--help")
    for w in ("SYNOPSIS", "EXAMPLES", "REFERENCES", "--force", "[epsilon-plus-flat]",
              "[hold-out of 0.25 of the groups]", "--val-split F", "--refit, --no-refit"):
        check(w in out, "--help lacks " + w)
    ok, out, _ = expect(0, "", "--version")
    check(out.startswith("xai-eeg (libxai) "), "--version text")
    expect(2, "subcommand", )
    expect(2, "unknown subcommand", "frobnicate")
    expect(2, "--events is required", "train", "--edf", runs[0], "-o", os.path.join(tmp, "x.onnx"))
    expect(2, "", "train", "--edf", runs[0], "--events", "T1=left,T2=right", "--bogus", "-o", "x.onnx")
    expect(2, "--baseline", "train", "--edf", runs[0], "--events", "T1=a,T2=b", "--baseline", "x", "-o", "x.onnx")
    expect(2, "two classes", "train", "--edf", runs[0], "--events", "T1=a", "-o", os.path.join(tmp, "x.onnx"))
    # option numbers are read whole, within range and without overflow; the error names the option
    for opt, val in (("--bandpass", "8,"), ("--bandpass", ",30"), ("--bandpass", "8,inf"), ("--bandpass", "8,30,40"),
                     ("--bandpass", "30,8"), ("--tmin", "nan"), ("--tmax", "1e6"), ("--notch", "-50"),
                     ("--resample", "0x80"), ("--filter-order", "99999999999999999999"), ("--epochs", "1e3"),
                     ("--epochs", "99999999999999999999"), ("--lr", "nan"), ("--seed", "-1"),
                     ("--concepts", "conv0:channels=1,")):
        expect(2, opt, "train", "--edf", runs[0], "--events", "T1=a,T2=b", opt, val, "-o", os.path.join(tmp, "x.onnx"))
    check(not os.path.exists(os.path.join(tmp, "x.onnx")), "a refused option still trained a model")

    # ---- train on runs 1 and 2
    model = os.path.join(tmp, "mi.onnx")
    ok, out, err = expect(0, "", "train", "--edf", runs[0], runs[1], "--events", "T1=left,T2=right",
                          "--tmin", "0", "--tmax", "4", "--bandpass", "4,40", "--reference", "average",
                          "--epochs", "40", "--seed", "0", "--split-by", "run", "--standardise", "none",
                          "--augment", "none", "--arch",
                          "conv2d(8,k=1x33,p=0x16) conv2d(16,k={C}x1) bn relu avgpool(1x{P}) flatten dropout(0.25) "
                          "dense({K})", "--patience", "15", "--no-refit", "-o", model, "--progress", "none")
    check(os.path.exists(model), "model written")
    side = json.load(open(model[:-5] + ".json"))
    for k in ("CommandLine", "Version", "DateTime", "Sources", "Preprocessing", "TrainAccuracy"):
        check(k in side, "model sidecar lacks " + k)
    check(len(side.get("Sources", [])) == 2 and len(side["Sources"][0]["SHA256"]) == 64, "model sidecar sources")
    # the program by its name, not the build folder it ran from
    check(side.get("CommandLine", "").startswith("xai-eeg train --edf "), "sidecar CommandLine: program by name")
    try:
        import onnx
        meta = {p.key: p.value for p in onnx.load(model).metadata_props}
        card = json.loads(meta["libxai.card"])
        rec = card["preprocessing"]
        check(card["provenance"]["command_line"] == side.get("CommandLine"), "card and sidecar: one command line")
        check(rec["channels"][11] == "C3" and len(rec["channels"]) == 25, "record channels")
        # the EDF+ record duration field holds 8 characters, so the rate read back is 128 +- 1e-4
        check(abs(rec["sampling_frequency"] - 128) < 1e-3 and rec["n_times"] == 512, "record rate / times")
        check(rec["filter"]["high_pass"] == 4 and rec["filter"]["low_pass"] == 40, "record band-pass")
        check(rec["reference"] == "average" and rec["classes"] == ["left", "right"], "record reference/classes")
        check(rec["events"] == {"T1": "left", "T2": "right"}, "record events")
        check(rec["normalisation"]["std"] > 0, "record normalisation")
        check(card.get("classes") == ["left", "right"] and card.get("domain") == "eeg", "card classes")
        check(card["validation"]["group_kind"] == "run" and card["validation"]["n_heldout"] > 0,
              "card validation: held-out run")
        check(not [k for k in meta if k in ("xai_preprocessing", "class_names")], "no pre-card metadata keys")
    except ImportError:
        print("SKIP: model metadata: python onnx missing")
    expect(2, "exists", "train", "--edf", runs[0], "--events", "T1=left,T2=right", "-o", model)

    # ---- explain the held-out run with three methods
    out_dir = os.path.join(tmp, "out")
    shares = {}
    stem = os.path.join(out_dir, "sub-01_task-mi_run-3_desc-")
    for method, desc in (("lrp", "lrp"), ("gradient", "gradient"), ("gradient-x-input", "gradientxinput")):
        ok, _, err = expect(0, "", "explain", "--model", model, "--edf", runs[2], "-o", out_dir, "--target", "true",
                            "--method", method, "--progress", "none", "--start", "onehot", "--composite",
                            "epsilon-plus-flat", *(["--no-figures"] if method != "lrp" else []))
        if not ok:
            continue
        R = np.load(stem + desc + "_relevance.npy")
        check(R.shape == (30, 25, 512) and R.dtype == np.float32, "relevance shape %s" % (R.shape,))
        chans = table(stem + desc + "_channels.tsv")
        names = [c["name"] for c in chans]
        check(len(chans) == 25 and list(chans[0])[:3] == ["name", "type", "units"], "channels.tsv columns")
        check(all(c["type"] == "EEG" for c in chans), "channels.tsv type")
        ps = np.array([float(c["positive_share"]) for c in chans])
        pos = np.clip(R, 0, None).sum(axis=(0, 2))
        check(np.allclose(ps, pos / pos.sum(), rtol=1e-3, atol=1e-6), "positive_share matches the npy")
        rel = np.array([float(c["relevance"]) for c in chans])
        check(np.allclose(rel, R.sum(axis=2).mean(axis=0), rtol=1e-3, atol=1e-6), "relevance column matches the npy")
        ev = table(stem + desc + "_events.tsv")
        check(len(ev) == 30, "events.tsv rows")
        check(all(e["target"] == e["trial_type"] for e in ev), "--target true explains the true class")
        rs = np.array([float(e["relevance_sum"]) for e in ev])
        check(np.allclose(rs, R.sum(axis=(1, 2)), rtol=1e-3, atol=1e-5), "relevance_sum matches the npy")
        acc = np.mean([int(float(e["correct"])) for e in ev])
        check(acc >= 0.8, "%s: held-out accuracy %.3f < 0.8" % (method, acc))
        lg = np.array([[float(e["logit_left"]), float(e["logit_right"])] for e in ev])
        pred = ["left" if a > b else "right" for a, b in lg]
        check(pred == [e["prediction"] for e in ev], "predictions follow the logits")
        sc = json.load(open(stem + desc + "_relevance.json"))
        for k in ("CommandLine", "Version", "DateTime", "ModelSHA256", "Method", "Sources", "Logits", "Preprocessing"):
            check(k in sc, "relevance sidecar lacks " + k)
        check(np.allclose(np.array(sc.get("Logits", [])), lg, atol=1e-4), "sidecar logits = events logits")
        shares[method] = roi_share(R, names)
        if method == "lrp":
            print("held-out accuracy: %.3f" % acc)
    print("ROI share of positive relevance (chance 0.24): " +
          ", ".join("%s %.3f" % kv for kv in shares.items()))
    if "lrp" in shares and "gradient" in shares:
        check(shares["lrp"] >= 0.42, "LRP ROI share %.3f < 0.42" % shares["lrp"])
        check(shares["lrp"] >= shares["gradient"], "LRP (%.3f) localises worse than gradient (%.3f)"
              % (shares["lrp"], shares["gradient"]))
    for f in ("dataset_description.json", "sub-01_task-mi_run-3_desc-lrp_topomap.png",
              "sub-01_task-mi_run-3_desc-lrpLeft_heatmap.png", "sub-01_task-mi_run-3_desc-lrpRight_heatmap.png",
              "sub-01_task-mi_run-3_desc-lrp_topomap.json"):
        p = os.path.join(out_dir, f)
        check(os.path.exists(p), "missing output " + f)
        if f.endswith(".png") and os.path.exists(p):
            check(open(p, "rb").read(8) == b"\x89PNG\r\n\x1a\n", "PNG signature " + f)
    check(not [f for f in os.listdir(out_dir) if ".tmp" in f], "temporary files left behind")

    # ---- refusing to overwrite, then --force
    before = os.path.getmtime(stem + "lrp_relevance.npy")
    expect(2, "exists", "explain", "--model", model, "--edf", runs[2], "-o", out_dir, "--progress", "none")
    check(os.path.getmtime(stem + "lrp_relevance.npy") == before, "refused run left the output alone")
    expect(0, "", "explain", "--model", model, "--edf", runs[2], "-o", out_dir, "--force", "-q", "--no-figures")

    # ---- killed mid-run: whatever exists under a final name is complete (atomic writes)
    import signal, time
    for delay in (0.3, 1.0, 2.0):
        kdir = os.path.join(tmp, "killed%g" % delay)
        pr = subprocess.Popen([EXE, "explain", "--model", model, "--edf", runs[2], "-o", kdir, "-q",
                               "--method", "smoothgrad"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        pr.send_signal(signal.SIGKILL)
        pr.wait()
        for f in os.listdir(kdir) if os.path.isdir(kdir) else []:
            p = os.path.join(kdir, f)
            if ".tmp" in f:
                continue
            if f.endswith(".npy"):
                check(np.load(p).shape == (30, 25, 512), "killed run left a partial " + f)
            elif f.endswith(".json"):
                try:
                    json.load(open(p))
                    check(True, "")
                except ValueError:
                    check(False, "killed run left a partial " + f)
            elif f.endswith(".tsv"):
                check(len(open(p).read().splitlines()) in (26, 31), "killed run left a partial " + f)
            elif f.endswith(".png"):
                b = open(p, "rb").read()
                check(b[:8] == b"\x89PNG\r\n\x1a\n" and b[-8:-4] == b"IEND", "killed run left a partial " + f)

    # ---- the same recording as BrainVision gives the same explanation (EDF is 16-bit)
    bv_dir = os.path.join(tmp, "bv")
    ok, _, _ = expect(0, "", "explain", "--model", model, "--edf", runs[2][:-4] + ".vhdr", "-o", bv_dir, "-q",
                      "--no-figures")
    if ok:
        Rb = np.load(os.path.join(bv_dir, "sub-01_task-mi_run-3_desc-lrp_relevance.npy"))
        Re = np.load(stem + "lrp_relevance.npy")
        cc = np.corrcoef(Rb.ravel(), Re.ravel())[0, 1]
        check(cc > 0.99, "BrainVision vs EDF relevance correlation %.4f" % cc)

    # ---- BIDS events.tsv next to the recording replaces the annotations
    r = subprocess.run([GEN, "--seed", "1", "--runs", "3", "--trials", "30", "--events-tsv",
                        os.path.join(tmp, "bids")], capture_output=True, text=True)
    bids_run3 = os.path.join(tmp, "bids", "sub-01_task-mi_run-3_eeg.edf")
    expect(1, "no epochs", "explain", "--model", model, "--edf", bids_run3, "-o", os.path.join(tmp, "ot1"))
    # a sibling events.tsv replaces the annotations, so T1/T2 match nothing: a data error that
    # names the class, not "out of memory" and a double free
    bids_runs = [os.path.join(tmp, "bids", "sub-01_task-mi_run-%d_eeg.edf" % i) for i in (1, 2)]
    expect(1, "class 'left' has 0 epochs", "train", "--edf", *bids_runs, "--events", "T1=left,T2=right",
           "--tmin", "0", "--tmax", "4", "-o", os.path.join(tmp, "none.onnx"), "--progress", "none")
    expect(1, "none of the mapped events", "train", "--edf", *bids_runs, "--events", "T1=left,T2=right",
           "-o", os.path.join(tmp, "none.onnx"), "--progress", "none")
    # without --tmin/--tmax the window is the events' duration (4 s in events.tsv)
    wmodel = os.path.join(tmp, "window.onnx")
    ok, _, _ = expect(0, "", "train", "--edf", *bids_runs, "--events", "left_hand=left,right_hand=right",
                      "--split-by", "run", "--epochs", "2", "--no-refit", "-o", wmodel, "--progress", "none")
    if ok:
        try:
            import onnx
            wc = json.loads({p.key: p.value for p in onnx.load(wmodel).metadata_props}["libxai.card"])
            wr = wc["preprocessing"]
            check(wr["t_min"] == 0 and wr["t_max"] == 4 and wr["window"] == "annotation-duration",
                  "window from the events' duration: %s" % ((wr["t_min"], wr["t_max"], wr["window"]),))
            check(wr["filter"]["high_pass"] == 4 and wr["filter"]["low_pass"] == 38 and
                  wr["standardisation"] == "recording-channel-zscore", "default pre-processing recorded")
            # a model whose card warns, explaining two files: each warning once, not once per file
            wc["validation"]["above_chance"] = False
            mp = onnx.load(wmodel)
            for p in mp.metadata_props:
                if p.key == "libxai.card":
                    p.value = json.dumps(wc)
            warned = os.path.join(tmp, "warned.onnx")
            onnx.save(mp, warned)
            _, _, err = expect(0, "is not above chance", "explain", "--model", warned, "--edf", *bids_runs,
                               "--events", "left_hand=left,right_hand=right", "-o", os.path.join(tmp, "ow"),
                               "--no-figures", "--progress", "none")
            check(err.count("is not above chance") == 1, "card warning repeated per file:\n" + err)
        except ImportError:
            print("SKIP: window record and once-per-run card warnings: python onnx missing")
    ok, _, _ = expect(0, "", "explain", "--model", model, "--edf", bids_run3, "--events",
                      "left_hand=left,right_hand=right", "-o", os.path.join(tmp, "ot2"), "-q", "--no-figures")
    if ok:
        Rt = np.load(os.path.join(tmp, "ot2", "sub-01_task-mi_run-3_desc-lrp_relevance.npy"))
        Re = np.load(stem + "lrp_relevance.npy")
        check(Rt.shape == Re.shape and np.allclose(Rt, Re, atol=1e-6), "events.tsv epochs = annotation epochs")

    # ---- BIDS-App form on a tiny generated BIDS tree
    bids = os.path.join(tmp, "bidsroot")
    subprocess.run([GEN, "--subject", "01", "--runs", "1", "--trials", "6", "--events-tsv",
                    os.path.join(bids, "sub-01", "eeg")], capture_output=True)
    subprocess.run([GEN, "--subject", "02", "--seed", "5", "--runs", "2", "--trials", "6",
                    os.path.join(bids, "sub-02", "ses-a", "eeg")], capture_output=True)
    deriv = os.path.join(tmp, "deriv")
    expect(2, "--model", bids, deriv, "participant")
    expect(1, "run the participant level first", bids, os.path.join(tmp, "empty"), "group")
    ok, _, _ = expect(0, "", bids, deriv, "participant", "--model", model, "--participant-label", "02", "-q")
    s2 = os.path.join(deriv, "sub-02", "ses-a", "eeg", "sub-02_task-mi_run-%d_desc-lrp_relevance.npy")
    check(os.path.exists(s2 % 1) and os.path.exists(s2 % 2), "participant 02: both runs explained")
    check(not os.path.exists(os.path.join(deriv, "sub-01")), "participant 01 not selected")
    check(os.path.exists(os.path.join(deriv, "dataset_description.json")), "derivative dataset_description.json")
    expect(0, "", bids, deriv, "participant", "--model", model, "--participant-label", "sub-01", "--events",
           "left_hand=left,right_hand=right", "--task", "mi", "-q", "--no-figures")
    check(np.load(os.path.join(deriv, "sub-01", "eeg", "sub-01_task-mi_run-1_desc-lrp_relevance.npy")).shape
          == (6, 25, 512), "participant 01 from events.tsv")
    expect(1, "no EEG recordings", bids, os.path.join(tmp, "deriv2"), "participant", "--model", model, "--task", "rest")
    ok, _, _ = expect(0, "", bids, deriv, "group", "-q")
    if ok:
        g = table(os.path.join(deriv, "group_desc-lrp_channels.tsv"))
        check(len(g) == 25 and {"relevance_left", "relevance_right"} <= set(g[0]), "group table")
        # the group mean is the mean of the participants' tables whose maps are out of sample: the
        # model was trained on sub-01's run 1 or 2 (held-out run), so a recording of that name
        # is in sample and left out (its sidecar says so)
        paths = [os.path.join(deriv, *p) for p in (
            ("sub-01", "eeg", "sub-01_task-mi_run-1_desc-lrp_channels.tsv"),
            ("sub-02", "ses-a", "eeg", "sub-02_task-mi_run-1_desc-lrp_channels.tsv"),
            ("sub-02", "ses-a", "eeg", "sub-02_task-mi_run-2_desc-lrp_channels.tsv"))]
        oos = [json.load(open(p[:-4] + ".json")).get("OutOfSample") for p in paths]
        check(oos[1] is True and oos[2] is True, "sub-02 maps are out of sample: %s" % oos)
        per = [table(p) for p, o in zip(paths, oos) if o]
        check(all(int(float(r["n_recordings"])) == len(per) for r in g), "group over the out-of-sample recordings")
        gs = json.load(open(os.path.join(deriv, "group_desc-lrp_channels.json")))
        check(gs.get("InSampleRecordingsLeftOut") == 3 - len(per), "group sidecar counts the left-out maps")
        want = np.mean([[float(r["relevance_left"]) for r in t] for t in per], axis=0)
        check(np.allclose([float(r["relevance_left"]) for r in g], want, rtol=1e-6, atol=1e-9), "group mean")
        check(os.path.exists(os.path.join(deriv, "group_desc-lrp_topomap.png")), "group topomap")
    expect(2, "exists", bids, deriv, "group")

    # ---- mismatches
    # a recording without C3: rename the label in the EDF header (signal 11's label field)
    raw = bytearray(open(runs[2], "rb").read())
    ns = int(raw[252:256])
    off = 256 + 11 * 16
    check(raw[off:off + 16].decode().strip() == "C3", "label field of C3")
    raw[off:off + 16] = b"X3".ljust(16)
    nochan = os.path.join(tmp, "sub-01_task-mi_run-9_eeg.edf")
    open(nochan, "wb").write(bytes(raw))
    expect(1, "'C3'", "explain", "--model", model, "--edf", nochan, "-o", os.path.join(tmp, "o1"))
    check(ns == 26, "EDF+ signal count (25 + annotations): %d" % ns)
    # another sample rate
    r = subprocess.run([GEN, "--seed", "2", "--runs", "1", "--trials", "4", "--rate", "160",
                        os.path.join(tmp, "d160")], capture_output=True, text=True)
    expect(1, "sample rate", "explain", "--model", model, "--edf",
           os.path.join(tmp, "d160", "sub-01_task-mi_run-1_eeg.edf"), "-o", os.path.join(tmp, "o2"))
    check(not os.path.exists(os.path.join(tmp, "o2", "sub-01_task-mi_run-1_desc-lrp_relevance.npy")),
          "no output after a mismatch")
    # a batch where one input fails: exit 3, the good one is written
    ok, _, err = expect(3, "sample rate", "explain", "--model", model, "--edf", runs[1],
                        os.path.join(tmp, "d160", "sub-01_task-mi_run-1_eeg.edf"), "-o", os.path.join(tmp, "o7"),
                        "--no-figures", "--progress", "none")
    check(np.load(os.path.join(tmp, "o7", "sub-01_task-mi_run-2_desc-lrp_relevance.npy")).shape == (30, 25, 512),
          "partial batch: the good input's output")
    # a model that xai-eeg did not train
    other = os.path.join(SRC, "tests", "data", "lrpref", "cases", "mlp_matmul", "model.onnx")
    if os.path.exists(other):
        expect(1, "xai_preprocessing", "explain", "--model", other, "--edf", runs[2], "-o", os.path.join(tmp, "o3"))
    # an event mapping onto a class the model does not have
    expect(1, "no class 'up'", "explain", "--model", model, "--edf", runs[2], "--events", "T1=up,T2=left",
           "-o", os.path.join(tmp, "o4"))
    # no matching events
    expect(1, "no epochs", "explain", "--model", model, "--edf", runs[2], "--events", "T7=left,T8=right",
           "-o", os.path.join(tmp, "o5"))
    # missing input file
    expect(1, "nothing.edf", "explain", "--model", model, "--edf", os.path.join(tmp, "nothing.edf"),
           "-o", os.path.join(tmp, "o6"))
    # a channel selection naming a channel the data lacks
    expect(1, "'Cz2'", "train", "--edf", runs[0], "--events", "T1=left,T2=right", "--channels", "C3,Cz2",
           "-o", os.path.join(tmp, "y.onnx"))

    # ---- real data: EEGMMIDB S001 R04 (T1 left fist, T2 right fist imagery)
    real = os.path.join(SHARED, "data", "eeg", "eegmmidb_S001R04.edf") if SHARED else ""
    if real and os.path.exists(real):
        rm = os.path.join(tmp, "s001.onnx")
        ok, out, err = expect(0, "", "train", "--edf", real, "--events", "T1=left,T2=right", "--tmin", "0",
                              "--tmax", "4", "--bandpass", "4,40", "--reference", "average", "--resample", "80",
                              "--split-by", "epoch", "--cv", "5", "--epochs", "25", "--patience", "0",
                              "-o", rm, "--progress", "none")
        line = [l for l in out.splitlines() if l.startswith("cv_accuracy")]
        if check(len(line) == 1, "cv line"):
            f = line[0].split("\t")
            print("EEGMMIDB S001R04: 5-fold CV accuracy %s (sd %s), majority class %s" % (f[1], f[3], f[7]))
            check(0 <= float(f[1]) <= 1, "cv accuracy in [0, 1]")
        ok, _, _ = expect(0, "", "explain", "--model", rm, "--edf", real, "-o", os.path.join(tmp, "real"), "-q")
        if ok:
            R = np.load(os.path.join(tmp, "real", "eegmmidb_S001R04_desc-lrp_relevance.npy"))
            ev = table(os.path.join(tmp, "real", "eegmmidb_S001R04_desc-lrp_events.tsv"))
            # R04 holds 15 T1/T2 imagery trials between 15 T0 rest periods
            check(R.shape == (15, 64, 320) and len(ev) == 15, "real relevance shape %s" % (R.shape,))
            check(os.path.exists(os.path.join(tmp, "real", "eegmmidb_S001R04_desc-lrp_topomap.png")), "real topomap")
    else:
        print("SKIP: real-data part: $XAI_SHARED_DIR/data/eeg absent")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print("%d checks, %d failures" % (checks, failures))
sys.exit(1 if failures else 0)
PYEOF
