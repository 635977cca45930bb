# SPDX-License-Identifier: GPL-3.0-or-later
"""The shared train/explain driver's explanation side (xai/driver.h) for NumPy samples.

A model set is MODEL.onnx (the model for new data) and, when it was cross-validated, its fold
models MODEL.fold-K.onnx. Explaining through the set is what the domain programs do: each
sample whose group a fold held out is explained by that fold (an out-of-fold map), the others
by the model for new data and flagged when that model saw their group; the stable start
(xai_explain_config_stable()) is the default, and maps are L1-normalised so that they can be
averaged.
"""
import ctypes
import json
from dataclasses import dataclass, field

import numpy as np

from . import _lib
from ._lib import POINTER, bind, c_char_p, c_double, c_int, c_int64, c_void_p, check
from .errors import XaiValueError
from .model import METHODS

FLAG_DEPARTS, FLAG_IN_SAMPLE, FLAG_NO_TARGET = 1, 2, 4
_STARTS = {"stable": 0, "onehot": 1, "logit": 2, "logodds": 3, "contrast": 4}
_MAX_NDIM = 6


class _Dataset(ctypes.Structure):
    """xai_dataset (xai/domain.h), filled with borrowed NumPy buffers: never freed by the library."""
    _c_name_ = "xai_dataset"
    _fields_ = [("n", c_int64), ("ndim", c_int), ("shape", c_int64 * _MAX_NDIM), ("x", POINTER(ctypes.c_float)),
                ("y", POINTER(c_int)), ("nclasses", c_int), ("class_names", POINTER(c_char_p)),
                ("group", POINTER(c_int)), ("ngroups", c_int), ("group_names", POINTER(c_char_p)),
                ("group_kind", c_char_p), ("meta", c_char_p)]


class _Target(ctypes.Structure):
    _c_name_ = "xai_target"
    _fields_ = [("kind", c_int), ("cls", c_int)]


_WARN = ctypes.CFUNCTYPE(None, c_void_p, c_char_p)
_PROGRESS = ctypes.CFUNCTYPE(None, c_void_p, c_char_p, c_int64, c_int64, c_char_p)


class _Options(ctypes.Structure):
    _c_name_ = "xai_driver_explain_options"
    _fields_ = [("target", _Target), ("start", c_int), ("method", c_int), ("composite", c_char_p),
                ("rules", c_char_p), ("have_bounds", c_int), ("low", ctypes.c_float), ("high", ctypes.c_float),
                ("box_low", POINTER(ctypes.c_float)), ("box_high", POINTER(ctypes.c_float)), ("batch", c_int64), ("out_of_fold", c_int), ("normalise", c_int),
                ("check_factor", c_double), ("strict", c_int), ("progress", _PROGRESS), ("progress_ud", c_void_p),
                ("warn", _WARN), ("warn_ud", c_void_p)]


class _Explanation(ctypes.Structure):
    _c_name_ = "xai_driver_explanation"
    _fields_ = [("n", c_int64), ("numel", c_int64), ("nclasses", c_int), ("rel", POINTER(ctypes.c_float)),
                ("logits", POINTER(ctypes.c_float)), ("pred", POINTER(c_int)), ("target", POINTER(c_int)),
                ("fold", POINTER(c_int)), ("flags", POINTER(ctypes.c_uint)), ("rel_sum", POINTER(c_double)),
                ("init_sum", POINTER(c_double)), ("l1", POINTER(c_double)), ("n_departs", c_int64),
                ("n_in_sample", c_int64), ("untrusted", c_int), ("start", c_char_p)]


_f, _x = _lib.formats, _lib.xai
_set_load = bind(_f, "xai_driver_set_load", c_int, c_char_p, c_void_p, POINTER(c_void_p))
_set_free = bind(_f, "xai_driver_set_free", None, c_void_p)
_set_nfolds = bind(_f, "xai_driver_set_nfolds", c_int, c_void_p)
_set_card = bind(_f, "xai_driver_set_card", c_void_p, c_void_p)
_set_warnings = bind(_f, "xai_driver_set_warnings", c_char_p, c_void_p, POINTER(c_int))
_set_fold_groups = bind(_f, "xai_driver_set_fold_groups", c_int, c_void_p, c_int, POINTER(POINTER(c_char_p)),
                        POINTER(c_int))
_opts_init = bind(_f, "xai_driver_explain_options_init", None, POINTER(_Options))
_explain = bind(_f, "xai_driver_explain", c_int, c_void_p, POINTER(_Dataset), POINTER(_Options),
                POINTER(_Explanation))
_expl_free = bind(_f, "xai_driver_explanation_free", None, POINTER(_Explanation))
_target_parse = bind(_f, "xai_target_parse", c_int, c_char_p, POINTER(c_char_p), c_int, ctypes.c_uint,
                     POINTER(_Target))
_card_to_json = bind(_x, "xai_card_to_json", c_int, c_void_p, c_int, POINTER(c_void_p))
_method_parse = bind(_x, "xai_method_parse", c_int, c_char_p, POINTER(c_int))


@dataclass
class Explanation:
    """Per sample (arrays of length n): the map in the sample's shape and how it was made."""
    relevance: np.ndarray   # (n, *sample shape); L1-normalised unless normalise=False
    logits: np.ndarray      # (n, classes) of the model that explained the sample
    pred: np.ndarray
    target: np.ndarray      # explained class (-1: target "true" and no label)
    fold: np.ndarray        # fold model used, 0-based; -1: the model for new data
    flags: np.ndarray       # FLAG_DEPARTS | FLAG_IN_SAMPLE | FLAG_NO_TARGET
    relevance_sum: np.ndarray
    init_sum: np.ndarray
    l1: np.ndarray          # sum |R| of the raw map
    start: str
    warnings: list = field(default_factory=list)


class ModelSet:
    """MODEL.onnx and its fold models (xai_driver_set_load())."""

    def __init__(self, path):
        self.path = str(path)
        h = c_void_p()
        check(_set_load(_lib.encode(self.path), None, ctypes.byref(h)))
        self._h = h

    def __del__(self):
        if getattr(self, "_h", None):
            _set_free(self._h)
            self._h = None

    @property
    def n_folds(self):
        return int(_set_nfolds(self._h))

    @property
    def card(self):
        text = c_void_p()
        check(_card_to_json(_set_card(self._h), 0, ctypes.byref(text)))
        return json.loads(_lib.take_string(text.value))

    @property
    def warnings(self):
        s = _set_warnings(self._h, None)
        return [w for w in (s or b"").decode().splitlines() if w]

    def fold_groups(self, k):
        names, n = POINTER(c_char_p)(), c_int()
        check(_set_fold_groups(self._h, int(k), ctypes.byref(names), ctypes.byref(n)))
        return [names[i].decode() for i in range(n.value)]

    def _target(self, target):
        classes = self.card.get("classes") or []
        arr = (c_char_p * max(len(classes), 1))(*[c.encode() for c in classes])
        t = _Target()
        text = target if isinstance(target, str) else str(int(target))
        check(_target_parse(text.encode(), arr if classes else None, len(classes) or (1 << 20), 3, ctypes.byref(t)),
              "target")
        return t

    def explain(self, x, y=None, groups=None, group_kind=None, target="pred", start="stable", method="lrp",
                composite=None, rules=None, batch=64, out_of_fold=True, normalise=True, check_factor=10.0):
        """Explain samples x (n, *sample shape) through the set, as the domain programs do.

        y: labels (needed for target "true"); groups: the group name of each sample (what the
        card's folds list, e.g. "sub-01_ses-none_run-3" for xai-eeg's runs), so that a sample is
        explained by the fold that held its group out; target: "pred", "true" or a class name
        or index; start: "stable", "onehot", "logit", "logodds" or "contrast"."""
        xs = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
        n = xs.shape[0]
        if not 1 <= xs.ndim - 1 <= _MAX_NDIM:
            raise XaiValueError("x needs (n, ...) with 1..%d sample dimensions" % _MAX_NDIM)
        d = _Dataset(n=n, ndim=xs.ndim - 1)
        for i, s in enumerate(xs.shape[1:]):
            d.shape[i] = s
        d.x = xs.ctypes.data_as(POINTER(ctypes.c_float))
        keep = [xs]
        if y is not None:
            ya = np.ascontiguousarray(np.asarray(y).reshape(n), dtype=np.intc)
            keep.append(ya)
            d.y, d.nclasses = ya.ctypes.data_as(POINTER(c_int)), int(ya.max()) + 1 if n else 0
        if groups is not None:
            names = sorted(set(groups), key=list(groups).index)
            ga = np.ascontiguousarray([names.index(g) for g in groups], dtype=np.intc)
            gn = (c_char_p * len(names))(*[g.encode() for g in names])
            keep += [ga, gn]
            d.group, d.ngroups, d.group_names = ga.ctypes.data_as(POINTER(c_int)), len(names), gn
        if group_kind:
            d.group_kind = group_kind.encode()
        o = _Options()
        _opts_init(ctypes.byref(o))
        o.target = self._target(target)
        if start not in _STARTS:
            raise XaiValueError("start must be stable, onehot or logit")
        m = c_int()
        check(_method_parse(str(method).encode(), ctypes.byref(m)), "method")
        o.start, o.method, o.batch, o.out_of_fold, o.normalise, o.check_factor = \
            _STARTS[start], m.value, int(batch), int(bool(out_of_fold)), int(bool(normalise)), float(check_factor)
        if composite:
            o.composite = keep_b = composite.encode()
            keep.append(keep_b)
        if rules:
            o.rules = keep_r = (rules if isinstance(rules, str) else ";".join(rules)).encode()
            keep.append(keep_r)
        warnings = []
        o.warn = cb = _WARN(lambda ud, msg: warnings.append(msg.decode("utf-8", "replace")))
        e = _Explanation()
        try:
            check(_explain(self._h, ctypes.byref(d), ctypes.byref(o), ctypes.byref(e)), self.path)
            arr = lambda p, k, dt: np.ctypeslib.as_array(p, (k,)).astype(dt) if k else np.empty(0, dt)
            nc = e.nclasses
            return Explanation(
                relevance=arr(e.rel, n * e.numel, np.float32).reshape(xs.shape),
                logits=arr(e.logits, n * nc, np.float32).reshape(n, nc), pred=arr(e.pred, n, np.int64),
                target=arr(e.target, n, np.int64), fold=arr(e.fold, n, np.int64), flags=arr(e.flags, n, np.int64),
                relevance_sum=arr(e.rel_sum, n, np.float64), init_sum=arr(e.init_sum, n, np.float64),
                l1=arr(e.l1, n, np.float64), start=e.start.decode() if e.start else "", warnings=warnings)
        finally:
            _expl_free(ctypes.byref(e))
            del cb, keep


__all__ = ["ModelSet", "Explanation", "FLAG_DEPARTS", "FLAG_IN_SAMPLE", "FLAG_NO_TARGET", "METHODS"]
