# SPDX-License-Identifier: GPL-3.0-or-later
"""SpRAy over NumPy stacks of relevance maps (xai/spray.h), as xai-spray runs it.

Lapuschkin et al. 2019, Nat. Commun. 10:1096 (SpRAy); Anders et al. 2022, Inf. Fusion 77:261
(the Clever-Hans ranking by Fisher discriminant separability).
"""
import ctypes
from dataclasses import dataclass

import numpy as np

from . import _lib
from ._lib import POINTER, bind, c_double, c_float, c_int, c_int64, c_uint64, c_void_p, check
from .errors import XaiValueError

_NORM = {"none": 0, "sum": 1, "max": 2}
_SOLVER = {"auto": 0, "dense": 1, "lanczos": 2}


class SprayConfig(ctypes.Structure):
    """xai_spray_config, field for field."""
    _c_name_ = "xai_spray_config"
    _fields_ = [("pool_rows", c_int), ("pool_cols", c_int), ("use_abs", c_int), ("norm", c_int), ("knn", c_int),
                ("n_eig", c_int), ("n_clusters", c_int), ("min_clusters", c_int), ("max_clusters", c_int),
                ("restarts", c_int), ("max_iter", c_int), ("seed", c_uint64), ("solver", c_int),
                ("dense_max", c_int)]


class _SprayResult(ctypes.Structure):
    _c_name_ = "xai_spray_result"
    _fields_ = [("n", c_int64), ("n_eig", c_int), ("eigenvalues", POINTER(c_double)),
                ("embedding", POINTER(c_float)), ("n_components", c_int), ("n_clusters", c_int),
                ("labels", POINTER(c_int)), ("sizes", POINTER(c_int64)), ("embedding2d", POINTER(c_float)),
                ("inertia", c_double), ("fda", c_double), ("fda_null", c_double), ("fda_ratio", c_double),
                ("knn_seconds", c_double), ("eig_seconds", c_double), ("kmeans_seconds", c_double),
                ("used_lanczos", c_int)]


_x = _lib.xai
_cfg_init = bind(_x, "xai_spray_config_init", None, POINTER(SprayConfig))
_preprocess = bind(_x, "xai_spray_preprocess", c_int, c_void_p, c_int64, c_int, c_int, POINTER(SprayConfig),
                   POINTER(c_void_p), POINTER(c_int), POINTER(c_int))
_by_class = bind(_x, "xai_spray_by_class", c_int, c_void_p, c_int64, c_int64, c_void_p, c_void_p, c_int,
                 POINTER(SprayConfig), POINTER(POINTER(_SprayResult)), c_void_p)
_result_free = bind(_x, "xai_spray_result_free", None, POINTER(_SprayResult))
_cluster_means = bind(_x, "xai_spray_cluster_means", c_int, c_void_p, c_int64, c_int64, c_void_p, c_int,
                      POINTER(_SprayResult), c_void_p)


@dataclass
class ClassClusters:
    """SpRAy of one class: its maps (indices into the stack), clusters and spectral embedding."""
    label: int
    index: np.ndarray        # (m,) positions of this class's maps in the stack
    clusters: np.ndarray     # (m,) cluster of each map, 0..n_clusters-1, largest cluster first
    sizes: np.ndarray        # (n_clusters,)
    eigenvalues: np.ndarray  # ascending eigenvalues of the normalised Laplacian
    embedding: np.ndarray    # (m, n_eig) spectral embedding
    embedding2d: np.ndarray  # (m, 2) the first two non-trivial coordinates
    n_components: int
    fda: float               # Fisher separability J of the clusters
    fda_null: float          # J of the same k on maps shuffled within each map
    fda_ratio: float         # fda / fda_null: the ranking key
    inertia: float
    cluster_means: np.ndarray  # (n_clusters, *map shape) mean relevance map of each cluster

    @property
    def n_clusters(self):
        return len(self.sizes)


@dataclass
class SprayResult:
    classes: dict    # label -> ClassClusters
    ranking: list    # labels, most separable (suspicious) first


def _config(pool, signed, norm, knn, eig, clusters, min_clusters, max_clusters, restarts, max_iter, seed,
            solver, dense_max):
    cfg = SprayConfig()
    _cfg_init(ctypes.byref(cfg))
    if pool is not None:
        if len(pool) != 2 or min(pool) < 0:
            raise XaiValueError("pool needs (rows, cols), 0 keeping an axis")
        cfg.pool_rows, cfg.pool_cols = int(pool[0]), int(pool[1])
    cfg.use_abs = 0 if signed else 1
    if norm not in _NORM or solver not in _SOLVER:
        raise XaiValueError("norm must be sum, max or none and solver auto, dense or lanczos")
    cfg.norm, cfg.solver = _NORM[norm], _SOLVER[solver]
    for name, v in (("knn", knn), ("n_eig", eig), ("n_clusters", clusters), ("min_clusters", min_clusters),
                    ("max_clusters", max_clusters), ("restarts", restarts), ("max_iter", max_iter),
                    ("seed", seed), ("dense_max", dense_max)):
        if v is not None:
            setattr(cfg, name, int(v))
    return cfg


def _copy(rp, label, index, maps, lab):
    r = rp.contents
    k, n, ne = r.n_clusters, r.n, r.n_eig
    clusters = np.ctypeslib.as_array(r.labels, (n,)).astype(np.int64)
    sizes = np.ctypeslib.as_array(r.sizes, (k,)).copy()
    means = np.empty((k,) + maps.shape[1:], np.float32)
    dim = int(np.prod(maps.shape[1:]))
    check(_cluster_means(maps.ctypes.data_as(c_void_p), maps.shape[0], dim, lab.ctypes.data_as(c_void_p), label,
                         rp, means.ctypes.data_as(c_void_p)), "spray")
    return ClassClusters(label=label, index=index, clusters=clusters, sizes=sizes,
                         eigenvalues=np.ctypeslib.as_array(r.eigenvalues, (ne,)).copy(),
                         embedding=np.ctypeslib.as_array(r.embedding, (n * ne,)).reshape(n, ne).copy(),
                         embedding2d=np.ctypeslib.as_array(r.embedding2d, (n * 2,)).reshape(n, 2).copy(),
                         n_components=r.n_components, fda=r.fda, fda_null=r.fda_null, fda_ratio=r.fda_ratio,
                         inertia=r.inertia, cluster_means=means)


def spray(maps, labels=None, classes=None, pool=None, signed=False, norm="sum", knn=None, eig=None, clusters=None,
          min_clusters=None, max_clusters=None, restarts=None, max_iter=None, seed=None, solver="auto",
          dense_max=None):
    """SpRAy of a stack of maps (N, ...) per class, ranked by fda_ratio (xai_spray_by_class()).

    The last axis of a map is its columns and the axes between N and it are flattened into rows,
    as xai-spray does; `pool` = (rows, cols) sum-pools each map (0 keeps an axis). labels: N
    integer classes (None: all 0); classes: the labels to analyse (default every label present,
    ascending). Defaults of the other options are the library's (knn 10, eig 32, clusters by
    the eigengap between min_clusters 2 and max_clusters 10, restarts 10, seed 1).
    """
    a = np.ascontiguousarray(np.asarray(maps, dtype=np.float32))
    if a.ndim < 2 or a.shape[0] < 3:
        raise XaiValueError("need maps of shape (N, ...) with N >= 3")
    n, cols = a.shape[0], a.shape[-1]
    rows = int(np.prod(a.shape[1:-1])) if a.ndim > 2 else 1
    lab = np.zeros(n, np.intc) if labels is None else np.asarray(labels)
    if lab.size != n or (lab.dtype.kind == "f" and not np.all(lab == np.round(lab))):
        raise XaiValueError("labels: %d integer labels needed for %d maps" % (n, n))
    lab = np.ascontiguousarray(lab.reshape(n).astype(np.intc))
    cls = np.ascontiguousarray(np.unique(lab) if classes is None else np.asarray(classes), dtype=np.intc)
    cfg = _config(pool, signed, norm, knn, eig, clusters, min_clusters, max_clusters, restarts, max_iter, seed,
                  solver, dense_max)
    feat, fr, fc = c_void_p(), c_int(), c_int()
    check(_preprocess(a.ctypes.data_as(c_void_p), n, rows, cols, ctypes.byref(cfg), ctypes.byref(feat),
                      ctypes.byref(fr), ctypes.byref(fc)), "spray")
    res = (POINTER(_SprayResult) * len(cls))()
    order = np.zeros(len(cls), np.intc)
    try:
        check(_by_class(feat, n, fr.value * fc.value, lab.ctypes.data_as(c_void_p), cls.ctypes.data_as(c_void_p),
                        len(cls), ctypes.byref(cfg), res, order.ctypes.data_as(c_void_p)), "spray")
        out = {int(c): _copy(res[i], int(c), np.flatnonzero(lab == c), a, lab) for i, c in enumerate(cls)}
    finally:
        for r in res:
            if r:
                _result_free(r)
        _x.xai_free(feat)  # a malloc'ed buffer (xai_free() is free() inside the library)
    return SprayResult(classes=out, ranking=[int(cls[i]) for i in order])
