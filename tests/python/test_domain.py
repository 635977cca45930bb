#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The domain verbs and adapters of the Python package against the domain programs.

EEG: epochs of a generated EDF as the bundled model expects them equal the inputs xai-eeg
explain saves (--save-input), their onsets and samples its events table, and explaining them
through the model set (fold models, stable start, normalised maps) gives xai-eeg's maps; a real EEGMMIDB
recording (../shared) reads as MNE reads it, and as its GDF conversion (BioSig) reads; relevance becomes mne.EvokedArray/EpochsArray
with xai-eeg's electrode positions and plot_topomap draws it (matplotlib Agg).
fMRI: a generated BOLD run as model input equals xai-fmri explain's saved input; its maps put
back on the grid equal xai-fmri's 4-D relevance NIfTI, as a nibabel image with the run's affine.
Exits 77 without numpy; the MNE and nibabel parts skip (each says why) without those packages.
"""
import csv
import os
import glob
import tempfile

from common import SHARED, SOURCE, check, done, max_rel, np, program, run

import libxai
import libxai.eeg
import libxai.fmri

GEN = {k: os.path.join(os.environ.get("XAI_BUILD_ROOT", ""), "datasets", k) for k in ("gen_eeg", "gen_fmri")}


def read_tsv(path):
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def eeg_case(tmp):
    model = libxai.Model(os.path.join(SOURCE, "datasets/eeg/mi-shallow.onnx"))
    p = run(GEN["gen_eeg"], "--seed", "4", "--runs", "1", "--trials", "20", tmp)
    edf = os.path.join(tmp, "sub-01_task-mi_run-1_eeg.edf")
    if not check(p.returncode == 0 and os.path.exists(edf), "gen_eeg writes an EDF+ recording"):
        return None
    out = os.path.join(tmp, "eeg-out")
    p = run(program("xai-eeg"), "explain", "--model", model.path, "--edf", edf, "-o", out, "--save-input",
            "--no-figures", "-q")
    if not check(p.returncode == 0, "xai-eeg explain --save-input runs"):
        return None
    ep = libxai.eeg.epochs(model, edf)
    saved = np.load(glob.glob(os.path.join(out, "*_input.npy"))[0])
    check(ep.x.shape == (saved.shape[0],) + model.input_shape and np.array_equal(ep.x.reshape(saved.shape), saved),
          "EEG epochs %s as the model expects them = xai-eeg's saved inputs (bitwise)" % (ep.x.shape,))
    ev = read_tsv(glob.glob(os.path.join(out, "*_events.tsv"))[0])
    check([int(r["sample"]) for r in ev] == list(ep.sample) and
          np.allclose([float(r["onset"]) for r in ev], ep.onset_s, atol=5e-5) and
          [r["trial_type"] for r in ev] == [ep.classes[k] for k in ep.y],
          "onsets, samples and classes of the %d epochs as xai-eeg's events.tsv" % len(ev))
    check(ep.channels == model.card["input"]["channel_names"] and ep.rate == 128 and len(ep.times) == ep.x.shape[-1],
          "channels, rate %g Hz and window [%g, %g] s from the card" % (ep.rate, ep.times[0], ep.times[-1]))
    rel_path = glob.glob(os.path.join(out, "*_relevance.npy"))[0]
    _, ex = libxai.eeg.explain(model.path, edf)
    logits = np.array([[float(r["logit_left"]), float(r["logit_right"])] for r in ev], np.float32)
    check(np.array_equal(ex.relevance, np.load(rel_path)) and np.array_equal(ex.logits, logits),
          "eeg.explain: maps %s and logits = xai-eeg explain's (bitwise; folds %s, start %s)"
          % (ex.relevance.shape, sorted(set(ex.fold)), ex.start))
    out2 = os.path.join(tmp, "eeg-out2")
    p = run(program("xai-eeg"), "explain", "--model", model.path, "--edf", edf, "-o", out2, "--no-figures", "-q",
            "--target", "true", "--start", "logit", "--composite", "epsilon-gamma-box")
    _, ex2 = libxai.eeg.explain(model.path, edf, target="true", start="logit", composite="epsilon-gamma-box")
    ref2 = np.load(glob.glob(os.path.join(out2, "*_relevance.npy"))[0]) if p.returncode == 0 else None
    check(ref2 is not None and np.array_equal(ex2.relevance, ref2) and list(ex2.target) == list(ep.y),
          "eeg.explain(target='true', start='logit', composite='epsilon-gamma-box') = xai-eeg explain's maps")
    raw = libxai.eeg.read_raw(edf)
    check(raw.data.shape[0] == len(raw.channels) and len(raw.events) >= len(ev) and raw.rate == 128,
          "read_raw: %d channels x %d samples, %d events" % (raw.data.shape + (len(raw.events),)))
    try:
        libxai.eeg.epochs(libxai.Model(os.path.join(SOURCE, "datasets/example/model.onnx")), edf)
        check(False, "a model without an EEG record raises")
    except libxai.XaiValueError as e:
        check("pre-processing" in str(e), "a model without an EEG record: %s" % e)
    try:
        libxai.eeg.epochs(model, os.path.join(tmp, "missing.edf"))
        check(False, "a missing recording raises")
    except libxai.XaiError as e:
        check("missing.edf" in str(e), "a missing recording: %s: %s" % (type(e).__name__, e))
    return model, ep


def mne_case(model, ep, tmp):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import mne
        from libxai import mne as xmne
    except ImportError as e:
        print("SKIP (mne part): %s is not installed (apt-get install python3-mne python3-matplotlib)" % e.name)
        return
    mne.set_log_level("error")
    rel = model.explain(ep.x)
    native = ep.native(rel)
    ev = xmne.to_evoked(rel, ep, cls="left")
    left = native[ep.y == ep.classes.index("left")].astype(np.float64)
    check(isinstance(ev, mne.EvokedArray) and ev.nave == len(left) and np.allclose(ev.data, left.mean(0), rtol=1e-6,
                                                                                  atol=0),
          "to_evoked: mean of the %d 'left' maps, %d channels x %d times" % (len(left), *ev.data.shape))
    pos = ev.get_montage().get_positions()["ch_pos"]
    want = {ch: libxai.eeg.position(ch) * xmne.HEAD_RADIUS_M for ch in ep.channels}
    check(set(pos) == set(ep.channels) and all(np.allclose(pos[ch], want[ch]) for ch in pos),
          "montage: all %d channels at xai-eeg's 10-05 positions" % len(pos))
    fig = ev.plot_topomap(times=[ev.times[len(ev.times) // 2]], scalings=1, units="relevance", show=False)
    png = os.path.join(tmp, "topomap.png")
    fig.savefig(png)
    img = matplotlib.image.imread(png)
    coloured = np.mean(np.ptp(img[..., :3], axis=2) > 0.2)
    check(os.path.getsize(png) > 2000 and coloured > 0.01,
          "plot_topomap draws the scalp map (Agg, %d bytes, %.1f %% coloured pixels)"
          % (os.path.getsize(png), 100 * coloured))
    epochs = xmne.to_epochs(rel, ep)
    check(isinstance(epochs, mne.EpochsArray) and np.allclose(epochs.get_data(), native, rtol=1e-6, atol=0) and
          list(epochs.events[:, 2]) == list(ep.y + 1) and list(epochs.events[:, 0]) == list(ep.sample) and
          epochs.event_id == {"left": 1, "right": 2},
          "to_epochs: %d maps, events at the windows' samples coded class + 1" % len(epochs))
    real = os.path.join(SHARED, "data/eeg/eegmmidb_S001R04.edf")
    if not os.path.exists(real):
        print("SKIP (real EDF): %s is absent" % real)
        return
    raw = libxai.eeg.read_raw(real)
    ref = mne.io.read_raw_edf(real, preload=True)
    scale = {"uV": 1e-6, "mV": 1e-3, "V": 1.0}
    ours = raw.data * np.array([scale.get(u, 1e-6) for u in raw.units])[:, None]
    theirs = ref.get_data(picks=list(range(len(raw.channels))))
    check(raw.channels == ref.ch_names[:len(raw.channels)] and raw.rate == ref.info["sfreq"] and
          max_rel(ours, theirs) < 1e-6,
          "EEGMMIDB S001R04: %d channels, %g Hz, samples as MNE reads them (max rel diff %.2g)"
          % (len(raw.channels), raw.rate, max_rel(ours, theirs)))
    ann = [(round(a["onset"], 4), a["description"]) for a in ref.annotations]
    check([(round(o, 4), t) for o, _, t in raw.events] == ann,
          "its %d events = MNE's annotations (onset, text)" % len(ann))


def gdf_case(tmp):
    """GDF (BioSig) reads as the EDF it was converted from (save2gdf, Debian biosig-tools)."""
    import shutil
    edf = os.path.join(SHARED, "data/eeg/eegmmidb_S001R04.edf")
    if not (os.path.exists(edf) and shutil.which("save2gdf")):
        print("SKIP (GDF): needs %s and save2gdf (apt-get install biosig-tools)" % edf)
        return
    gdf = os.path.join(tmp, "S001R04.gdf")
    p = run("save2gdf", "-f=GDF", edf, gdf)
    if not check(p.returncode == 0 and os.path.exists(gdf), "save2gdf converts EEGMMIDB S001R04 to GDF"):
        return
    a, b = libxai.eeg.read_raw(edf), libxai.eeg.read_raw(gdf)
    check(a.channels == b.channels and a.units == b.units and a.rate == b.rate and np.array_equal(a.data, b.data)
          and a.events == b.events, "read_raw: the GDF gives the EDF's %d channels, samples and %d events"
          % (len(a.channels), len(a.events)))


def fmri_case(tmp):
    p = run(GEN["gen_fmri"], "--seed", "1", "--subjects", "1", "--runs", "3", tmp)
    func = os.path.join(tmp, "sub-01", "func", "sub-01_task-blocks_run-3_")
    if not check(p.returncode == 0 and os.path.exists(func + "bold.nii.gz"), "gen_fmri writes a BIDS run"):
        print(p.stderr)
        return
    model = libxai.Model(os.path.join(SOURCE, "datasets/fmri/model-dense.onnx"))
    out = os.path.join(tmp, "fmri-out")
    p = run(program("xai-fmri"), "explain", "--model", model.path, "--bold", func + "bold.nii.gz", "--events",
            func + "events.tsv", "-o", out, "--save-input", "-q")
    if not check(p.returncode == 0, "xai-fmri explain --save-input runs"):
        return
    r = libxai.fmri.run_input(model, func + "bold.nii.gz")
    derived = os.path.join(out, "sub-01", "func", "sub-01_task-blocks_run-3_desc-")
    saved = np.load(derived + "input_bold.npy")
    check(r.x.shape == saved.shape and np.array_equal(r.x, saved),
          "BOLD run as model input %s = xai-fmri's saved input (bitwise; %d voxels in the mask)"
          % (r.x.shape, r.mask.sum()))
    # xai-fmri's own explanation settings for its linear default model
    rel = model.explain(r.x, composite="epsilon", init="logit", bias_factor=1)
    try:
        import nibabel as nib
        from libxai import nibabel as xnib
    except ImportError as e:
        print("SKIP (nibabel part): %s is not installed (apt-get install python3-nibabel)" % e.name)
        return
    img = xnib.to_image(rel, r)
    cli = nib.load(derived + "lrp_bold.nii.gz")
    a, b = np.asarray(img.dataobj), np.asarray(cli.dataobj)
    check(a.shape == b.shape and max_rel(a, b) <= 1e-7,
          "maps on the grid %s = xai-fmri's relevance NIfTI (max rel diff %.2g%s)"
          % (a.shape, max_rel(a, b), ", bitwise" if np.array_equal(a, b) else ""))
    src = nib.load(func + "bold.nii.gz")
    check(np.allclose(img.affine, src.affine) and np.allclose(r.affine, src.affine) and r.orientation ==
          "".join(nib.aff2axcodes(src.affine)), "the image has the run's affine (%s)" % r.orientation)
    path = os.path.join(tmp, "rel.nii.gz")
    img.to_filename(path)
    back = nib.load(path)
    check(np.array_equal(np.asarray(back.dataobj), a) and back.get_data_dtype() == np.float32,
          "written and read back by nibabel unchanged (float32)")
    mean = xnib.to_image(rel.mean(axis=0), r, spread_outside_mask=False)
    check(mean.shape == a.shape[:3] and np.allclose(np.asarray(mean.dataobj), r.native(rel, False).mean(-1), rtol=1e-5,
                                                    atol=1e-9),
          "one map becomes a 3-D image %s" % (mean.shape,))
    data = np.asarray(src.dataobj)
    flipped = src.affine @ np.diag([-1, 1, 1, 1])
    for arr, aff, want, what in ((data[1:], src.affine, "voxel grid", "a run on another grid"),
                                 (data, flipped, "voxel axes point", "a run stored in another orientation")):
        bad = os.path.join(tmp, "bad_bold.nii.gz")
        nib.Nifti1Image(arr, aff, src.header).to_filename(bad)
        try:
            libxai.fmri.run_input(model, bad)
            check(False, "%s raises" % what)
        except libxai.XaiValueError as e:
            check(want in str(e), "%s: %s" % (what, str(e)[:150]))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        got = eeg_case(tmp)
        if got:
            mne_case(*got, tmp)
        gdf_case(tmp)
        fmri_case(os.path.join(tmp, "fmri"))
    done()


main()
