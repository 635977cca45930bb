# SPDX-License-Identifier: GPL-3.0-or-later
"""The EEG domain verbs of libxai-formats (xai/domain-eeg.h) over NumPy arrays.

    raw = libxai.eeg.read_raw("S001R04.edf")              # what xai-eeg reads
    ep = libxai.eeg.epochs(model, "S001R04.edf")          # as the model expects them
    rel = model.explain(ep.x)                             # (n, *model.input_shape)
    maps = ep.native(rel)                                 # (n, channels, times)

Epochs are made with the pre-processing record of the model card (channel selection,
re-reference, zero-phase filters, resampling, per-recording standardisation, window, baseline,
normalisation), exactly as `xai-eeg explain` makes them. libxai.mne turns the maps into MNE
objects with the electrode positions xai-eeg's topomaps use.
"""
import ctypes
import json
from dataclasses import dataclass

import numpy as np

from . import _lib
from ._lib import POINTER, bind, c_char_p, c_double, c_int, c_int64, check
from .errors import XaiValueError
from .model import Model


class _Event(ctypes.Structure):
    _c_name_ = "xai_eeg_event"
    _fields_ = [("onset_s", c_double), ("duration_s", c_double), ("text", c_char_p)]


class _Raw(ctypes.Structure):
    _c_name_ = "xai_eeg_raw"
    _fields_ = [("nch", c_int), ("labels", POINTER(c_char_p)), ("units", POINTER(c_char_p)), ("rate", c_double),
                ("n", c_int64), ("data", POINTER(ctypes.c_float)), ("nev", ctypes.c_size_t),
                ("ev", POINTER(_Event))]


class _Prep(ctypes.Structure):
    """xai_eeg_prep, field for field."""
    _c_name_ = "xai_eeg_prep"
    _fields_ = [("nch", c_int), ("channels", POINTER(c_char_p)), ("units", POINTER(c_char_p)),
                ("rate_in", c_double), ("rate", c_double), ("average_ref", c_int), ("hp", c_double),
                ("lp", c_double), ("notch", c_double), ("order", c_int), ("tmin", c_double), ("tmax", c_double),
                ("baseline_mean", c_int), ("standardise", c_int), ("window_from_events", c_int),
                ("ntimes", c_int64), ("nclass", c_int), ("classes", POINTER(c_char_p)), ("nmap", c_int),
                ("ev_keys", POINTER(c_char_p)), ("ev_class", POINTER(c_int)), ("norm_mean", c_double),
                ("norm_std", c_double)]


class _Epochs(ctypes.Structure):
    _c_name_ = "xai_eeg_epochs"
    _fields_ = [("n", c_int64), ("x", POINTER(ctypes.c_float)), ("y", POINTER(c_int)),
                ("onset_s", POINTER(c_double)), ("sample", POINTER(c_int64)), ("dropped", c_int64)]


_f = _lib.formats
_raw_load = bind(_f, "xai_eeg_raw_load", c_int, c_char_p, POINTER(_Raw))
_raw_free = bind(_f, "xai_eeg_raw_free", None, POINTER(_Raw))
_prep_from_json = bind(_f, "xai_eeg_prep_from_json", c_int, c_char_p, c_char_p, POINTER(_Prep))
_prep_free = bind(_f, "xai_eeg_prep_free", None, POINTER(_Prep))
_epochs_make = bind(_f, "xai_eeg_epochs_make", c_int, POINTER(_Prep), POINTER(_Raw), c_char_p, POINTER(_Epochs))
_epochs_free = bind(_f, "xai_eeg_epochs_free", None, POINTER(_Epochs))
_montage_find = bind(_f, "xai_eeg_montage_find", c_int, c_char_p, POINTER(c_double * 3), POINTER(c_double * 2))


def _strings(p, n):
    return [p[i].decode("utf-8", "replace") if p[i] else "" for i in range(n)]


@dataclass
class Raw:
    """A continuous recording as libxai reads it (physical units, channels sharing the first
    EEG channel's rate; trigger channels decoded into events)."""
    data: np.ndarray   # (channels, samples) float32
    channels: list
    units: list
    rate: float
    events: list       # [(onset_s, duration_s, text)]


def read_raw(path):
    """Read an EDF/EDF+/BDF/BDF+, BrainVision, GDF, BCI2000, CNT or EGI recording (xai_eeg_raw_load())."""
    r = _Raw()
    check(_raw_load(_lib.encode(path), ctypes.byref(r)))
    try:
        data = np.ctypeslib.as_array(r.data, (r.nch * r.n,)).reshape(r.nch, r.n).copy() if r.n else \
            np.zeros((r.nch, 0), np.float32)
        ev = [(r.ev[i].onset_s, r.ev[i].duration_s, r.ev[i].text.decode("utf-8", "replace") if r.ev[i].text else "")
              for i in range(r.nev)]
        return Raw(data, _strings(r.labels, r.nch), _strings(r.units, r.nch), r.rate, ev)
    finally:
        _raw_free(ctypes.byref(r))


@dataclass
class Epochs:
    """Epochs of one recording as the model expects them, with where they come from."""
    x: np.ndarray         # (n, *model.input_shape) float32: the model's input
    y: np.ndarray         # (n,) class of each epoch's event
    onset_s: np.ndarray   # (n,) event onsets in the recording
    sample: np.ndarray    # (n,) first sample of each window at `rate`
    dropped: int          # events whose window left the recording
    channels: list        # channel names in model order
    classes: list
    rate: float           # Hz after resampling
    tmin: float           # window start relative to the event (s)
    preprocessing: dict   # the card's record

    @property
    def times(self):
        """Time of each sample of a window relative to its event (s)."""
        return self.tmin + np.arange(self.x.shape[-1]) / self.rate

    def native(self, maps):
        """Maps in the model's input layout -> (n, channels, times), the layout xai-eeg writes."""
        a = np.asarray(maps)
        n = a.shape[0] if a.size else 0
        if a.size != self.x.size:
            raise XaiValueError("maps: %d values, the epochs have %d" % (a.size, self.x.size))
        return a.reshape(n, len(self.channels), self.x.shape[-1])


def _prep_of(model, name):
    rec = model.card.get("preprocessing")
    if not rec:
        raise XaiValueError("%s: no EEG pre-processing record in the model card (train it with 'xai-eeg train')"
                            % model.path)
    p = _Prep()
    check(_prep_from_json(json.dumps(rec).encode(), _lib.encode(name), ctypes.byref(p)))
    return p, rec


def epochs(model, path):
    """Epochs of the recording at `path` after the model card's pre-processing (xai_eeg_epochs_make()),
    shaped as the model's input. Raises when the recording lacks a channel of the record, has a
    different sample rate, or holds none of the record's events."""
    if not isinstance(model, Model):
        model = Model(model)
    p, rec = _prep_of(model, model.path)
    r, e = _Raw(), _Epochs()
    try:
        check(_raw_load(_lib.encode(path), ctypes.byref(r)))
        check(_epochs_make(ctypes.byref(p), ctypes.byref(r), _lib.encode(path), ctypes.byref(e)))
        nch, nt, n = p.nch, p.ntimes, e.n
        if int(np.prod(model.input_shape)) != nch * nt:
            raise XaiValueError("%s: the model's input %s does not match its pre-processing record (%d channels x "
                                "%d samples)" % (model.path, list(model.input_shape), nch, nt))
        if n == 0:
            raise XaiValueError("%s: no epochs: none of the model's events occurs in the file" % path)
        x = np.ctypeslib.as_array(e.x, (n * nch * nt,)).reshape((n,) + model.input_shape).copy()
        arr = lambda ptr, dt: np.ctypeslib.as_array(ptr, (n,)).astype(dt)
        return Epochs(x=x, y=arr(e.y, np.int64), onset_s=arr(e.onset_s, np.float64), sample=arr(e.sample, np.int64),
                      dropped=int(e.dropped), channels=_strings(p.channels, nch), classes=_strings(p.classes, p.nclass),
                      rate=p.rate, tmin=p.tmin, preprocessing=rec)
    finally:
        _epochs_free(ctypes.byref(e))
        _raw_free(ctypes.byref(r))
        _prep_free(ctypes.byref(p))


def position(label):
    """The electrode's unit vector on the ideal spherical head (x right ear, y nose, z vertex)
    from xai-eeg's 10-05 table, or None; case, blanks and dots are ignored (EEGMMIDB's "C3..")."""
    xyz, xy = (c_double * 3)(), (c_double * 2)()
    if _montage_find(label.encode(), ctypes.byref(xyz), ctypes.byref(xy)) != 0:
        return None
    return np.array(xyz[:])


def group_of(path, kind):
    """The group name xai-eeg gives a recording for the card's validation.group_kind: from its
    BIDS entities ("sub-01", "sub-01_ses-none", "sub-01_ses-none_run-3"), else its file stem."""
    import os
    import re
    base = os.path.basename(str(path))
    ent = dict(re.findall(r"(?:^|_)([a-zA-Z]+)-([a-zA-Z0-9]+)(?=_|\.|$)", base))
    sub, ses, run = ent.get("sub"), ent.get("ses") or "none", ent.get("run")
    if kind == "subject" and sub:
        return "sub-%s" % sub
    if kind == "session" and sub:
        return "sub-%s_ses-%s" % (sub, ses)
    if kind == "run" and sub and run:
        return "sub-%s_ses-%s_run-%s" % (sub, ses, run)
    stem = base[:base.rfind(".")] if base.rfind(".") > 0 else base
    return stem[:-4] if len(stem) > 4 and stem.endswith("_eeg") else stem


def explain(model_path, path, target="pred", **options):
    """Explain a recording as `xai-eeg explain` does: its epochs after the card's pre-processing,
    each explained by the fold model that held its group out (else the model for new data), with
    the driver's stable start and L1-normalised maps unless `options` say otherwise (start,
    method, composite, rules, batch, out_of_fold, normalise; see libxai.driver.ModelSet.explain).
    Returns (Epochs, libxai.driver.Explanation) with the maps as (epochs, channels, times)."""
    from .driver import ModelSet
    ep = epochs(Model(model_path), path)
    s = ModelSet(model_path)
    kind = (s.card.get("validation") or {}).get("group_kind")
    n, nch, nt = len(ep.y), len(ep.channels), ep.x.shape[-1]
    per_epoch = kind == "trial"
    group = group_of(path, "recording" if per_epoch else kind or "subject")
    groups = ["%s#%d" % (group, i) for i in range(n)] if per_epoch else [group] * n
    ex = s.explain(ep.x.reshape(n, 1, nch, nt), y=ep.y, groups=groups, group_kind=kind, target=target, **options)
    ex.relevance = ex.relevance.reshape(n, nch, nt)
    return ep, ex
