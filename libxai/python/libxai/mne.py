# SPDX-License-Identifier: GPL-3.0-or-later
"""Relevance as MNE-Python objects (needs python3-mne).

    from libxai import mne as xmne
    evoked = xmne.to_evoked(rel, ep, cls="left")     # mean map of the epochs of one class
    evoked.plot_topomap(times=[0.5], scalings=1, units="relevance")
    epochs = xmne.to_epochs(rel, ep)                  # one map per epoch, events = classes

Channel positions are those of xai-eeg's topomaps (the 10-05 table of libxai-formats on an
ideal spherical head of MNE's default radius), so MNE and xai-eeg draw the same scalp;
channels without a position become "misc" and stay out of topomaps. Event codes are class
index + 1 (MNE reserves 0).
"""
import numpy as np

import mne

from .eeg import position
from .errors import XaiValueError

HEAD_RADIUS_M = 0.095  # MNE's default sphere for topomaps


def info(channels, rate):
    """An mne.Info of EEG channels at `rate` Hz with their positions set as a DigMontage."""
    pos = {ch: position(ch) for ch in channels}
    kinds = ["eeg" if pos[ch] is not None else "misc" for ch in channels]
    inf = mne.create_info(list(channels), float(rate), kinds)
    placed = {ch: p * HEAD_RADIUS_M for ch, p in pos.items() if p is not None}
    if placed:
        inf.set_montage(mne.channels.make_dig_montage(ch_pos=placed, coord_frame="head"), on_missing="ignore")
    return inf


def _maps(maps, ep):
    return np.asarray(ep.native(maps), dtype=np.float64)


def to_evoked(maps, ep, cls=None, select=None, comment=None):
    """The mean of the epochs' maps as an mne.EvokedArray (channels x times, tmin of the window).

    cls: only the epochs whose event is this class (name or index); select: a boolean mask or
    indices of the epochs to average (e.g. the correctly classified ones)."""
    m = _maps(maps, ep)
    keep = np.ones(len(m), bool)
    if cls is not None:
        k = ep.classes.index(cls) if isinstance(cls, str) else int(cls)
        if not 0 <= k < len(ep.classes):
            raise XaiValueError("class %r is not among %s" % (cls, ep.classes))
        keep &= ep.y == k
    if select is not None:
        sel = np.zeros(len(m), bool)
        sel[np.asarray(select)] = True
        keep &= sel
    if not keep.any():
        raise XaiValueError("no epochs to average")
    name = comment or ("relevance" + ("" if cls is None else " " + str(cls)))
    return mne.EvokedArray(m[keep].mean(axis=0), info(ep.channels, ep.rate), tmin=ep.tmin, nave=int(keep.sum()),
                           comment=name)


def to_epochs(maps, ep):
    """One map per epoch as an mne.EpochsArray; events at each window's first sample, coded by
    class (index + 1), event_id names them."""
    m = _maps(maps, ep)
    codes = ep.y + 1
    events = np.c_[ep.sample, np.zeros(len(m), np.int64), codes].astype(np.int64)
    present = sorted(set(int(c) for c in codes))
    event_id = {ep.classes[c - 1] if 0 < c <= len(ep.classes) else str(c): c for c in present}
    return mne.EpochsArray(m, info(ep.channels, ep.rate), events=events, tmin=ep.tmin, event_id=event_id,
                           verbose="error")
