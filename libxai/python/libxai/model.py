# SPDX-License-Identifier: GPL-3.0-or-later
"""Models (xai/model.h, xai/card.h) and explanations (xai/lrp.h) over NumPy arrays.

Arrays go to the library as float32, C order, stacked along a leading sample axis; a single
sample in the model's own input shape is accepted as well and comes back in that shape (the
rule of xai-explain).
"""
import ctypes
import json
import os
from dataclasses import dataclass, field

import numpy as np

from . import _lib
from ._lib import POINTER, bind, c_char_p, c_double, c_float, c_int, c_int64, c_uint64, c_void_p, check
from .errors import XaiValueError

MAX_DIMS = 8
METHODS = ("lrp", "gradient", "gradient-x-input", "smoothgrad", "integrated-gradients")
_INIT = {"onehot": 0, "logit": 1, "auto": 2, "logodds": 3, "contrast": 4}
_BN = {"fold": 0, "pass": 1}


class LoadOptions(ctypes.Structure):
    _c_name_ = "xai_load_options"
    _fields_ = [("input_ndim", c_int), ("input_shape", c_int64 * MAX_DIMS)]


class ExplainConfig(ctypes.Structure):
    """xai_explain_config (xai/lrp.h), field for field."""
    _c_name_ = "xai_explain_config"
    _fields_ = [("method", c_int), ("composite", c_char_p), ("epsilon", c_float), ("gamma", c_float),
                ("have_bounds", c_int), ("low", c_float), ("high", c_float), ("box_low", POINTER(c_float)),
                ("box_high", POINTER(c_float)), ("bn", c_int), ("init", c_int),
                ("target", c_int), ("targets", POINTER(c_int)), ("bias_factor", c_float),
                ("lstm_epsilon", c_float), ("rules", c_char_p), ("smooth_n", c_int), ("smooth_sigma", c_float),
                ("seed", c_uint64), ("ig_steps", c_int), ("batch", c_int64), ("layer_sums", c_int)]


class _ExplainResult(ctypes.Structure):
    _c_name_ = "xai_explain_result"
    _fields_ = [("n", c_int64), ("nclasses", c_int64), ("logits", POINTER(c_float)), ("target", POINTER(c_int)),
                ("rel_sum", POINTER(c_double)), ("init_sum", POINTER(c_double)), ("nlayers", c_int),
                ("layer_name", POINTER(c_char_p)), ("layer_op", POINTER(c_char_p)),
                ("layer_rule", POINTER(c_char_p)), ("layer_in_sum", POINTER(c_double)),
                ("layer_out_sum", POINTER(c_double)), ("init_state_sum", POINTER(c_double)),
                ("forward_ms", c_double), ("explain_ms", c_double)]


_x = _lib.xai
_load = bind(_x, "xai_model_load_onnx", c_int, c_char_p, POINTER(LoadOptions), POINTER(c_void_p))
_load_for_input = bind(_x, "xai_model_load_for_input", c_int, c_char_p, c_int, POINTER(c_int64),
                       POINTER(c_void_p))
_free = bind(_x, "xai_model_free", None, c_void_p)
_in_shape = bind(_x, "xai_model_input_shape", POINTER(c_int64), c_void_p, POINTER(c_int))
_out_shape = bind(_x, "xai_model_output_shape", POINTER(c_int64), c_void_p, POINTER(c_int))
_in_numel = bind(_x, "xai_model_input_numel", c_int64, c_void_p)
_out_numel = bind(_x, "xai_model_output_numel", c_int64, c_void_p)
_opset = bind(_x, "xai_model_opset", c_int, c_void_p)
_node_count = bind(_x, "xai_model_node_count", c_int, c_void_p)
_node_name = bind(_x, "xai_model_node_name", c_char_p, c_void_p, c_int)
_node_op = bind(_x, "xai_model_node_op", c_char_p, c_void_p, c_int)
_metadata = bind(_x, "xai_model_metadata", c_char_p, c_void_p, c_char_p)
_ws_new = bind(_x, "xai_workspace_new", c_int, c_void_p, c_int64, POINTER(c_void_p))
_ws_free = bind(_x, "xai_workspace_free", None, c_void_p)
_forward = bind(_x, "xai_model_forward", c_int, c_void_p, c_void_p, c_int64, c_void_p, c_void_p)
_set_threads = bind(_x, "xai_set_num_threads", None, c_int)
_cfg_init = bind(_x, "xai_explain_config_init", None, POINTER(ExplainConfig))
_explain = bind(_x, "xai_explain", c_int, c_void_p, POINTER(ExplainConfig), c_int64, c_void_p, c_void_p,
                POINTER(_ExplainResult))
_result_free = bind(_x, "xai_explain_result_free", None, POINTER(_ExplainResult))
_method_parse = bind(_x, "xai_method_parse", c_int, c_char_p, POINTER(c_int))
_composite_check = bind(_x, "xai_composite_check", c_int, c_char_p)
_rules_check = bind(_x, "xai_rules_check", c_int, c_char_p)
_card_from_model = bind(_x, "xai_card_from_model", c_int, c_void_p, POINTER(c_void_p))
_card_free = bind(_x, "xai_card_free", None, c_void_p)
_card_to_json = bind(_x, "xai_card_to_json", c_int, c_void_p, c_int, POINTER(c_void_p))
_card_warnings = bind(_x, "xai_card_warnings", c_int, c_void_p, POINTER(c_void_p), POINTER(c_int))


def version():
    """The C library's version, "MAJOR.MINOR.PATCH"."""
    return _x.xai_version().decode()


def set_num_threads(n):
    """Threads of libxai's pool (1: none); results do not depend on it. It also sets OpenBLAS's
    thread count, one setting of the whole process (xai_set_num_threads)."""
    _set_threads(int(n))


def as_float32(x):
    """x as a C-contiguous float32 array (a copy only when needed)."""
    return np.ascontiguousarray(np.asarray(x, dtype=np.float32))


def _fptr(a):
    return a.ctypes.data_as(c_void_p)


@dataclass
class ExplainInfo:
    """What xai_explain() reports besides the maps, per sample (arrays of length n)."""
    logits: np.ndarray          # (n, classes)
    targets: np.ndarray         # (n,) the class explained
    relevance_sum: np.ndarray   # (n,) sum of the input relevance
    init_sum: np.ndarray        # (n,) relevance put in at the output
    init_state_sum: np.ndarray  # (n,) relevance on LSTM initial states
    layers: list = field(default_factory=list)   # [{"name", "op", "rule"}] per reported node
    layer_in_sum: np.ndarray = None               # (n, layers)
    layer_out_sum: np.ndarray = None              # (n, layers)
    forward_ms: float = 0.0
    explain_ms: float = 0.0


class Model:
    """An ONNX model loaded by libxai, with its model card.

    input_shape: per-sample shape to use for a model with symbolic dimensions (e.g. time).
    """

    def __init__(self, path, input_shape=None):
        self.path = os.fspath(path)
        opts = None
        if input_shape is not None:
            shape = tuple(int(d) for d in input_shape)
            if not 1 <= len(shape) <= MAX_DIMS:
                raise XaiValueError("input_shape needs 1..%d dimensions" % MAX_DIMS)
            opts = LoadOptions(len(shape), (c_int64 * MAX_DIMS)(*shape))
        h = c_void_p()
        check(_load(_lib.encode(self.path), ctypes.byref(opts) if opts else None, ctypes.byref(h)))
        self._h = h

    @classmethod
    def for_input(cls, path, x):
        """Load `path` to explain the array x: a model with symbolic dimensions (e.g. time)
        takes them from x's shape, as xai-explain does (xai_model_load_for_input)."""
        shape = tuple(int(d) for d in np.shape(x))
        dims = (c_int64 * max(len(shape), 1))(*shape)
        h = c_void_p()
        model = cls.__new__(cls)
        model.path = os.fspath(path)
        model._h = None
        check(_load_for_input(_lib.encode(model.path), len(shape), dims, ctypes.byref(h)))
        model._h = h
        return model

    def close(self):
        if getattr(self, "_h", None):
            _free(self._h)
            self._h = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def handle(self):
        if not self._h:
            raise XaiValueError("the model is closed")
        return self._h

    def __repr__(self):
        return "Model(%r, input_shape=%s, classes=%s)" % (self.path, self.input_shape, self.classes)

    @property
    def input_shape(self):
        """Per-sample input shape (what one sample looks like, batch axis of the ONNX included)."""
        nd = c_int()
        p = _in_shape(self.handle, ctypes.byref(nd))
        return tuple(p[i] for i in range(nd.value))

    @property
    def output_shape(self):
        nd = c_int()
        p = _out_shape(self.handle, ctypes.byref(nd))
        return tuple(p[i] for i in range(nd.value))

    @property
    def input_size(self):
        return int(_in_numel(self.handle))

    @property
    def n_outputs(self):
        return int(_out_numel(self.handle))

    @property
    def opset(self):
        return int(_opset(self.handle))

    @property
    def nodes(self):
        """[(name, op_type)] of the runtime nodes (after folding), in execution order."""
        h = self.handle
        return [(_node_name(h, i).decode(), _node_op(h, i).decode()) for i in range(_node_count(h))]

    def metadata(self, key):
        """A metadata_props value of the ONNX file, or None."""
        v = _metadata(self.handle, key.encode())
        return None if v is None else v.decode("utf-8", "replace")

    def _with_card(self, fn):
        card = c_void_p()
        check(_card_from_model(self.handle, ctypes.byref(card)), self.path)
        try:
            return fn(card)
        finally:
            _card_free(card)

    @property
    def card(self):
        """The model card (xai/card.h) as a dict: built from older metadata keys when the
        model has no card, {"card_version": 1} when it has neither."""
        def to_dict(card):
            text = c_void_p()
            check(_card_to_json(card, 0, ctypes.byref(text)))
            return json.loads(_lib.take_string(text.value))
        return self._with_card(to_dict)

    @property
    def card_warnings(self):
        """What the card says against trusting the model, one sentence each (as every program prints)."""
        def warnings(card):
            text, n = c_void_p(), c_int()
            check(_card_warnings(card, ctypes.byref(text), ctypes.byref(n)))
            s = _lib.take_string(text.value) or ""
            return [line for line in s.splitlines() if line.strip()]
        return self._with_card(warnings)

    @property
    def classes(self):
        """Class names in output order from the card, or None when it names none."""
        names = self.card.get("classes")
        return list(names) if names else None

    # ------------------------------------------------------------------ running
    def stack(self, x):
        """x as a float32 stack (n, *input_shape) and whether it was one unstacked sample."""
        a = as_float32(x)
        ms = self.input_shape
        if a.shape == ms:
            return a.reshape((1,) + ms), True
        if a.ndim == len(ms) + 1 and a.shape[1:] == ms:
            return a, False
        # a model whose batch axis is 1 takes a stack along that axis (as xai-explain does)
        if a.ndim == len(ms) and len(ms) > 1 and ms[0] == 1 and a.shape[1:] == ms[1:]:
            return a.reshape((a.shape[0],) + ms), False
        raise XaiValueError("input shape %s does not match the model input %s (or N x that)"
                            % (list(a.shape), list(ms)))

    def forward(self, x, batch=64):
        """Logits, (n, outputs) for a stack, (outputs,) for one sample."""
        xs, single = self.stack(x)
        n, nout = xs.shape[0], self.n_outputs
        out = np.empty((n, nout), dtype=np.float32)
        cap = max(1, min(int(batch), n))
        ws = c_void_p()
        check(_ws_new(self.handle, cap, ctypes.byref(ws)))
        try:
            for a in range(0, n, cap):
                b = min(n, a + cap)
                check(_forward(self.handle, ws, b - a, _fptr(xs[a:b]), _fptr(out[a:b])), self.path)
        finally:
            _ws_free(ws)
        return out[0] if single else out

    def predict(self, x):
        """The argmax class of each sample (an int for one sample)."""
        lg = self.forward(x)
        return int(np.argmax(lg)) if lg.ndim == 1 else np.argmax(lg, axis=1)

    def class_index(self, name):
        """Index of a class given by name (from the card) or index."""
        if isinstance(name, (int, np.integer)):
            k = int(name)
        else:
            names = self.classes or []
            if name not in names:
                raise XaiValueError("class '%s' is not among the model's classes %s" % (name, names))
            k = names.index(name)
        if not 0 <= k < self.n_outputs:
            raise XaiValueError("class %d is out of range (the model has %d outputs)" % (k, self.n_outputs))
        return k

    def explain(self, x, method="lrp", composite=None, rules=None, target="pred", return_info=False, **params):
        """Relevance maps of x, in x's shape (float32). See libxai.explain()."""
        return explain(self, x, method=method, composite=composite, rules=rules, target=target,
                       return_info=return_info, **params)


def _rules_string(rules):
    """--rule syntax: one 'SELECTOR=RULE[; ...]' string or a list of them (first match wins)."""
    if rules is None:
        return None
    parts = [rules] if isinstance(rules, str) else list(rules)
    for p in parts:
        check(_rules_check(p.encode()), "rules")
    return ";".join(parts) if parts else None


def _targets(model, target, n):
    """(single target, per-sample array or None) from 'pred', a class (index or name) or n of them."""
    if target is None or (isinstance(target, str) and target == "pred"):
        return -1, None
    if isinstance(target, (str, int, np.integer)):
        return model.class_index(target), None
    t = list(target)
    if len(t) != n:
        raise XaiValueError("targets: %d entries for %d samples" % (len(t), n))
    arr = np.array([-1 if (isinstance(v, str) and v == "pred") or (not isinstance(v, str) and int(v) == -1)
                    else model.class_index(v) for v in t], dtype=np.intc)
    return -1, arr


def make_config(method="lrp", composite=None, rules=None, epsilon=None, gamma=None, low=None,
                high=None, bn=None, init=None, bias_factor=None, lstm_epsilon=None, smooth_n=None,
                smooth_sigma=None, seed=None, ig_steps=None, batch=None, layer_sums=False):
    """An xai_explain_config from keyword arguments (names as xai-explain's options); the returned
    tuple also holds the byte strings it points to, which must live as long as the config."""
    cfg = ExplainConfig()
    _cfg_init(ctypes.byref(cfg))
    m = c_int()
    check(_method_parse(str(method).encode(), ctypes.byref(m)), "method")
    cfg.method = m.value
    keep = []
    if composite is not None:
        b = str(composite).encode()
        check(_composite_check(b), "composite")
        keep.append(b)
        cfg.composite = b
    r = _rules_string(rules)
    if r:
        keep.append(r.encode())
        cfg.rules = keep[-1]
    for name, v, ok in (("epsilon", epsilon, lambda v: v >= 0), ("gamma", gamma, lambda v: v >= 0),
                        ("bias_factor", bias_factor, lambda v: v >= 0),
                        ("lstm_epsilon", lstm_epsilon, lambda v: v >= 0),
                        ("smooth_sigma", smooth_sigma, lambda v: v >= 0)):
        if v is not None:
            if not (np.isfinite(v) and ok(v)):
                raise XaiValueError("%s needs a finite number >= 0" % name)
            setattr(cfg, name, float(v))
    if (low is None) != (high is None):
        raise XaiValueError("low and high go together")
    if low is not None:
        if not float(low) < float(high):
            raise XaiValueError("low must be below high")
        cfg.have_bounds, cfg.low, cfg.high = 1, float(low), float(high)
    if bn is not None:
        if bn not in _BN:
            raise XaiValueError("bn must be fold or pass")
        cfg.bn = _BN[bn]
    if init is not None:
        if init not in _INIT:
            raise XaiValueError("init must be auto, onehot or logit")
        cfg.init = _INIT[init]
    for name, v in (("smooth_n", smooth_n), ("ig_steps", ig_steps), ("seed", seed), ("batch", batch)):
        if v is not None:
            if int(v) < (0 if name == "seed" else 1):
                raise XaiValueError("%s needs a positive integer" % name)
            setattr(cfg, name, int(v))
    cfg.layer_sums = 1 if layer_sums else 0
    return cfg, keep


def _copy_info(res, n):
    def arr(p, count, dtype):
        return np.ctypeslib.as_array(p, shape=(count,)).astype(dtype, copy=True) if count else np.empty(0, dtype)
    nl, nc = res.nlayers, res.nclasses
    layers = [{"name": res.layer_name[i].decode(), "op": res.layer_op[i].decode(),
               "rule": res.layer_rule[i].decode() if res.layer_rule[i] else None} for i in range(nl)]
    return ExplainInfo(
        logits=arr(res.logits, n * nc, np.float32).reshape(n, nc),
        targets=arr(res.target, n, np.int64), relevance_sum=arr(res.rel_sum, n, np.float64),
        init_sum=arr(res.init_sum, n, np.float64), init_state_sum=arr(res.init_state_sum, n, np.float64),
        layers=layers,
        layer_in_sum=arr(res.layer_in_sum, n * nl, np.float64).reshape(n, nl) if res.layer_in_sum else None,
        layer_out_sum=arr(res.layer_out_sum, n * nl, np.float64).reshape(n, nl) if res.layer_out_sum else None,
        forward_ms=res.forward_ms, explain_ms=res.explain_ms)


def _box_arrays(low, high, x, stacked_shape):
    """The per-element bounds as float32 arrays in the stack's shape, or None when not given;
    they must have x's shape exactly (no broadcasting: a bound per input element)."""
    if (low is None) != (high is None):
        raise XaiValueError("box_low and box_high go together")
    if low is None:
        return None
    out = []
    for name, b in (("box_low", low), ("box_high", high)):
        a = as_float32(b)
        if a.shape != np.shape(x):
            raise XaiValueError("%s: shape %s differs from the input's %s (the bounds are per element)"
                                % (name, a.shape, np.shape(x)))
        out.append(a.reshape(stacked_shape))
    return out


def explain(model, x, method="lrp", composite=None, rules=None, target="pred", return_info=False, **params):
    """Relevance maps of the samples in x (xai_explain()), float32 in x's shape.

    model:     a Model or the path of an .onnx file (symbolic dimensions are taken from x)
    method:    lrp | gradient | gradient-x-input | smoothgrad | integrated-gradients
    composite: epsilon | epsilon-plus | epsilon-plus-flat (default) | epsilon-alpha2-beta1 |
               epsilon-alpha2-beta1-flat | epsilon-gamma-box
    rules:     per-layer overrides in xai-explain's --rule syntax, a string
               "first=zbox(-3,3); Conv=gamma(0.1)" or a list of such strings
    target:    "pred" (each sample's argmax), a class (index or name from the card), or one
               entry per sample (index, name, or -1/"pred")
    params:    epsilon, gamma, low, high (ZBox bounds), box_low, box_high (per-element ZBox
               bounds, arrays shaped like x, for a z-box on a layer that reads the input and
               has no bounds of its own: xai-explain's --box-low/--box-high), bn ("fold"|"pass"), init
               ("auto"|"onehot"|"logit"|"logodds"|"contrast"), bias_factor, lstm_epsilon, smooth_n, smooth_sigma, seed,
               ig_steps, batch (samples per sweep, default 64)
    return_info: also return an ExplainInfo (logits, targets, relevance sums, per-layer sums).
    """
    if not isinstance(model, Model):
        model = Model.for_input(model, x)
    xs, single = model.stack(x)
    n = xs.shape[0]
    boxes = _box_arrays(params.pop("box_low", None), params.pop("box_high", None), x, xs.shape)
    cfg, keep = make_config(method=method, composite=composite, rules=rules,
                            layer_sums=return_info, **params)
    if boxes:
        cfg.box_low, cfg.box_high = (b.ctypes.data_as(POINTER(c_float)) for b in boxes)
    cfg.target, per_sample = _targets(model, target, n)
    if per_sample is not None:
        cfg.targets = per_sample.ctypes.data_as(POINTER(c_int))
    rel = np.empty_like(xs)
    res = _ExplainResult() if return_info else None
    check(_explain(model.handle, ctypes.byref(cfg), n, _fptr(xs), _fptr(rel), ctypes.byref(res) if res else None),
          model.path)
    del keep, boxes
    rel = rel.reshape(np.shape(x))
    if not return_info:
        return rel
    try:
        return rel, _copy_info(res, n)
    finally:
        _result_free(ctypes.byref(res))
