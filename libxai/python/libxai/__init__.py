# SPDX-License-Identifier: GPL-3.0-or-later
"""libxai for Python: Layer-wise Relevance Propagation over NumPy arrays.

A pure-Python layer (ctypes) over the C libraries libxai and libxai-formats: the numbers are
the ones the command-line programs compute. Errors of the C libraries are raised as XaiError
subclasses whose message is the library's own (xai_last_error()).

    import libxai
    m = libxai.Model("model.onnx")
    rel = m.explain(x, composite="epsilon-gamma-box", rules="first=zbox(-3,3)", target="pred")
"""
from .errors import (XaiDependencyError, XaiError, XaiFormatError, XaiIOError, XaiMemoryError, XaiNumericError,
                     XaiShapeError, XaiUnsupportedError, XaiValueError)
from .model import METHODS, ExplainInfo, Model, explain, set_num_threads, version
from .spray import ClassClusters, SprayResult, spray
from .evaluate import METRICS, EvalResult, MetricScore, evaluate

__version__ = version()

__all__ = ["Model", "explain", "ExplainInfo", "METHODS", "set_num_threads", "version", "spray", "SprayResult",
           "ClassClusters", "evaluate", "EvalResult", "MetricScore", "METRICS", "XaiError",
           "XaiValueError", "XaiShapeError", "XaiIOError", "XaiFormatError", "XaiUnsupportedError",
           "XaiNumericError", "XaiMemoryError", "XaiDependencyError"]
