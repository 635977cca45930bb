# SPDX-License-Identifier: GPL-3.0-or-later
"""The evaluation metrics of xai/eval.h over NumPy arrays, with xai-evaluate's defaults.

Faithfulness (AOPC: Samek et al. 2017; ROAD: Rong et al. 2022; faithfulness correlation: Bhatt
et al. 2020; infidelity: Yeh et al. 2019), localisation (Arras et al. 2022), robustness (Yeh et
al. 2019), randomisation (MPRT: Adebayo et al. 2018) and complexity (Chalasani et al. 2020).
"""
import ctypes
from dataclasses import dataclass, field

import numpy as np

from . import _lib
from ._lib import POINTER, bind, c_char_p, c_double, c_float, c_int, c_int64, c_uint64, c_void_p, check
from .errors import XaiValueError
from .model import MAX_DIMS, Model, _targets, as_float32, make_config

METRIC_COUNT = 15


class PerturbConfig(ctypes.Structure):
    """xai_perturb_config, field for field."""
    _c_name_ = "xai_perturb_config"
    _fields_ = [("patch_ndim", c_int), ("patch", c_int64 * MAX_DIMS), ("steps", c_int), ("per_step", c_int64),
                ("order", c_int), ("replace", c_int), ("baseline", c_float), ("seed", c_uint64), ("batch", c_int64),
                ("target", POINTER(c_int)), ("road_axes", ctypes.c_uint), ("road_noise", c_float)]


class EvalConfig(ctypes.Structure):
    """xai_eval_config, field for field."""
    _c_name_ = "xai_eval_config"
    _fields_ = [("perturb", PerturbConfig), ("fc_runs", c_int), ("fc_fraction", c_double), ("infid_runs", c_int),
                ("infid_sigma", c_double), ("sens_runs", c_int), ("sens_radius", c_double), ("loc_abs", c_int),
                ("mprt_abs", c_int), ("seed", c_uint64)]


class _PerturbResult(ctypes.Structure):
    _c_name_ = "xai_perturb_result"
    _fields_ = [("n", c_int64), ("steps", c_int), ("npatches", c_int64), ("target", POINTER(c_int)),
                ("f", POINTER(c_double)), ("aopc_sample", POINTER(c_double)), ("curve", POINTER(c_double)),
                ("fraction", POINTER(c_double)), ("aopc", c_double), ("sd", c_double), ("ci_low", c_double),
                ("ci_high", c_double)]


class _MprtResult(ctypes.Structure):
    _c_name_ = "xai_mprt_result"
    _fields_ = [("nlayers", c_int), ("layer", POINTER(c_char_p)), ("n", c_int64), ("rho", POINTER(c_double)),
                ("mean", POINTER(c_double)), ("ci_low", POINTER(c_double)), ("ci_high", POINTER(c_double))]


class _MetricScore(ctypes.Structure):
    _c_name_ = "xai_metric_score"
    _fields_ = [("computed", c_int), ("sample", POINTER(c_double)), ("mean", c_double), ("sd", c_double),
                ("ci_low", c_double), ("ci_high", c_double), ("n_finite", c_int64)]


class _EvalScores(ctypes.Structure):
    _c_name_ = "xai_eval_scores"
    _fields_ = [("n", c_int64), ("target", POINTER(c_int)), ("score", _MetricScore * METRIC_COUNT),
                ("aopc", _PerturbResult * 2), ("road", _PerturbResult * 2), ("mprt", _MprtResult)]


_x = _lib.xai
_pcfg_init = bind(_x, "xai_perturb_config_init", None, POINTER(PerturbConfig))
_ecfg_init = bind(_x, "xai_eval_config_init", None, POINTER(EvalConfig))
_patch_parse = bind(_x, "xai_perturb_patch_parse", c_int, c_char_p, POINTER(PerturbConfig))
_patches = bind(_x, "xai_perturb_patches", c_int, c_int, POINTER(c_int64), POINTER(PerturbConfig), c_void_p,
                POINTER(c_int64))
_replace_parse = bind(_x, "xai_replace_parse", c_int, c_char_p, POINTER(c_int))
_metric_name = bind(_x, "xai_metric_name", c_char_p, c_int)
_metric_family = bind(_x, "xai_metric_family", c_char_p, c_int)
_metric_direction = bind(_x, "xai_metric_direction", c_int, c_int)
_metric_parse = bind(_x, "xai_metric_parse_list", c_int, c_char_p, POINTER(ctypes.c_uint32))
_metrics = bind(_x, "xai_eval_metrics", c_int, c_void_p, POINTER(EvalConfig), c_void_p, ctypes.c_uint32, c_int64,
                c_void_p, c_void_p, c_void_p, c_void_p, POINTER(_EvalScores))
_scores_free = bind(_x, "xai_eval_scores_free", None, POINTER(_EvalScores))

METRICS = tuple(_metric_name(k).decode() for k in range(METRIC_COUNT))


@dataclass
class MetricScore:
    """One metric of one method: per-sample values (NaN where undefined) and their mean with a
    95 % Student-t interval over the finite ones."""
    name: str
    family: str
    higher_is_better: bool
    samples: np.ndarray
    mean: float
    sd: float
    ci_low: float
    ci_high: float
    n_finite: int


@dataclass
class EvalResult:
    targets: np.ndarray                          # (n,) the class whose logit each metric tracks
    scores: dict                                 # metric name -> MetricScore, in the library's order
    mprt_layers: list = field(default_factory=list)  # layers randomised, top first
    mprt_rho: np.ndarray = None                  # (n, layers) Spearman after each cascade stage
    mprt_mean: np.ndarray = None                 # (layers,) its mean over the samples with a value
    curves: dict = field(default_factory=dict)   # "aopc-morf", ...: (n, L + 1) class logit after k steps

    def __getitem__(self, name):
        return self.scores[name]


def _arr(p, n):
    return np.ctypeslib.as_array(p, (n,)).copy() if n and p else np.empty(0)


def _copy(sc):
    n = sc.n
    scores = {}
    for k in range(METRIC_COUNT):
        s = sc.score[k]
        if s.computed:
            name = METRICS[k]
            scores[name] = MetricScore(name, _metric_family(k).decode(), _metric_direction(k) > 0,
                                       _arr(s.sample, n), s.mean, s.sd, s.ci_low, s.ci_high, int(s.n_finite))
    m = sc.mprt
    curves = {}
    for key, pr in (("aopc", sc.aopc), ("road", sc.road)):
        for j, order in enumerate(("morf", "lerf")):
            if pr[j].f:
                curves["%s-%s" % (key, order)] = _arr(pr[j].f, n * (pr[j].steps + 1)).reshape(n, pr[j].steps + 1)
    return EvalResult(targets=_arr(sc.target, n).astype(np.int64), scores=scores,
                      mprt_layers=[m.layer[i].decode() for i in range(m.nlayers)],
                      mprt_rho=_arr(m.rho, n * m.nlayers).reshape(n, m.nlayers) if m.nlayers else None,
                      mprt_mean=_arr(m.mean, m.nlayers),
                      curves=curves)


def _eval_config(model, patch, steps, per_step, replace, baseline, seed, batch, road_axes, road_noise, fc_runs,
                 fc_fraction, infid_runs, infid_sigma, sens_runs, sens_radius, loc_abs, mprt_abs):
    ec = EvalConfig()
    _ecfg_init(ctypes.byref(ec))
    pc = ec.perturb
    if patch is not None:
        spec = patch if isinstance(patch, str) else str(int(patch)) if np.ndim(patch) == 0 \
            else "x".join(str(int(v)) for v in patch)
        check(_patch_parse(spec.encode(), ctypes.byref(pc)), "patch")
    r = c_int()
    check(_replace_parse(str(replace).encode(), ctypes.byref(r)), "replace")
    pc.replace, pc.baseline, pc.per_step, pc.batch = r.value, float(baseline), int(per_step), int(batch)
    pc.seed = ec.seed = int(seed)
    shape = model.input_shape
    npatch = c_int64()
    check(_patches(len(shape), (c_int64 * len(shape))(*shape), ctypes.byref(pc), None, ctypes.byref(npatch)),
          "patch")
    most = -(-npatch.value // pc.per_step)
    if steps is None:
        steps = min(most, 100)  # xai-evaluate's default
    if not 1 <= int(steps) <= most:
        raise XaiValueError("steps %s with per_step %d: the input has %d patches" % (steps, pc.per_step, npatch.value))
    pc.steps = int(steps)
    if road_axes is not None:
        bits = 0
        for d in road_axes:
            if not 0 <= int(d) < len(shape):
                raise XaiValueError("road_axes needs axis indices 0..%d" % (len(shape) - 1))
            bits |= 1 << int(d)
        pc.road_axes = bits
    pc.road_noise = float(road_noise)
    ec.fc_runs, ec.fc_fraction, ec.infid_runs, ec.infid_sigma = int(fc_runs), float(fc_fraction), int(infid_runs), \
        float(infid_sigma)
    ec.sens_runs, ec.sens_radius, ec.loc_abs, ec.mprt_abs = int(sens_runs), float(sens_radius), int(bool(loc_abs)), \
        int(bool(mprt_abs))
    return ec


def evaluate(model, x, metrics="all", relevance=None, truth=None, target="pred", method="lrp", composite=None,
             patch=None, steps=None, per_step=1, replace="baseline", baseline=0.0, seed=0, batch=64, road_axes=None,
             road_noise=0.01, fc_runs=64, fc_fraction=0.1, infid_runs=64, infid_sigma=0.1, sens_runs=10,
             sens_radius=0.02, loc_abs=False, mprt_abs=True, **explain_params):
    """Metrics of one attribution method on the samples x (xai_eval_metrics()).

    metrics:   "all", family names or metric names, comma-separated or a list
    relevance: the method's maps of x (same shape), or None to compute them here
    truth:     ground-truth mask in the input layout, one sample's or all of them (localisation)
    target:    "pred", a class, or one class per sample
    method, composite and explain_params (rules, init, epsilon, ...) describe the method as in
    libxai.explain(); they are also used for MPRT and the sensitivity metrics. As in
    xai-evaluate, LRP starts from the logit by default, gradients from a one-hot output, and
    epsilon-gamma-box takes the stack's min and max as ZBox bounds. The perturbation
    settings and their defaults are xai-evaluate's (steps: min(100, all patches)).
    """
    if not isinstance(model, Model):
        model = Model(model)
    xs, _ = model.stack(x)
    n, nin = xs.shape[0], model.input_size
    names = metrics if isinstance(metrics, str) else ",".join(metrics)
    mset = ctypes.c_uint32()
    check(_metric_parse(names.encode(), ctypes.byref(mset)), "metrics")
    ec = _eval_config(model, patch, steps, per_step, replace, baseline, seed, batch, road_axes, road_noise, fc_runs,
                      fc_fraction, infid_runs, infid_sigma, sens_runs, sens_radius, loc_abs, mprt_abs)
    # as xai-evaluate: LRP starts from the logit it tracks, gradients are df/dx, and the ZBox
    # bounds of epsilon-gamma-box are the stack's range
    explain_params.setdefault("init", "logit" if method == "lrp" else "onehot")
    if method == "lrp" and composite == "epsilon-gamma-box" and "low" not in explain_params:
        lo, hi = float(xs.min()), float(xs.max())
        explain_params.update(low=lo, high=hi if hi > lo else lo + 1)
    xc, keep = make_config(method=method, composite=composite, seed=seed, batch=batch, **explain_params)
    rel = None if relevance is None else as_float32(relevance).reshape(xs.shape)
    mask = None
    if truth is not None:
        t = as_float32(truth)
        if t.size not in (nin, n * nin):
            raise XaiValueError("truth: %d values, expected one sample (%d) or all %d samples (%d)"
                                % (t.size, nin, n, n * nin))
        mask = np.ascontiguousarray(np.broadcast_to(t.reshape(-1, nin), (n, nin)))
    single, per_sample = _targets(model, target, n)
    tg = None
    if per_sample is not None or single >= 0:
        tg = per_sample if per_sample is not None else np.full(n, single, np.intc)
        if np.any(tg < 0):
            tg = np.where(tg < 0, np.argmax(model.forward(xs), axis=1), tg).astype(np.intc)
    sc = _EvalScores()
    ptr = lambda a: None if a is None else a.ctypes.data_as(c_void_p)
    check(_metrics(model.handle, ctypes.byref(ec), ctypes.byref(xc), mset.value, n, ptr(xs), ptr(rel), ptr(mask),
                   ptr(tg), ctypes.byref(sc)), model.path)
    try:
        return _copy(sc)
    finally:
        _scores_free(ctypes.byref(sc))
        del keep
