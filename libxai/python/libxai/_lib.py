# SPDX-License-Identifier: GPL-3.0-or-later
"""Loading libxai and libxai-formats through ctypes, and turning a failed call into an exception.

Where the libraries come from, first match wins:
  1. XAI_LIBRARY_PATH: directories (os.pathsep-separated) holding libxai.so* and
     libxai-formats.so* (the test suite points it at a build tree);
  2. the directory meson installed them into (recorded in _config.py at install time);
  3. the dynamic loader's search (ctypes.util.find_library).

The ctypes.Structure classes of the modules mirror the C structs of the public headers field
for field (xai_explain_config, xai_eval_config, xai_spray_result, xai_eeg_prep, xai_nifti_info,
xai_dataset, ...), each naming its struct in _c_name_: a change to one of those structs must be
made in its mirror too. The python-layout test compares every mirror's size and field offsets
with the C compiler's (tests/struct-layout.c lists the mirrored structs).
"""
import ctypes
import ctypes.util
import glob
import os

from .errors import raise_for

_C = ctypes
c_int, c_int64, c_uint64, c_float, c_double = _C.c_int, _C.c_int64, _C.c_uint64, _C.c_float, _C.c_double
c_char_p, c_void_p, POINTER = _C.c_char_p, _C.c_void_p, _C.POINTER


def _candidates(stem):
    """Paths to try for lib<stem>.so, in the order described above."""
    out = []
    for d in filter(None, os.environ.get("XAI_LIBRARY_PATH", "").split(os.pathsep)):
        out += sorted(glob.glob(os.path.join(d, "lib%s.so*" % stem)), key=len)
    try:
        from . import _config
        out += sorted(glob.glob(os.path.join(_config.LIBDIR, "lib%s.so*" % stem)), key=len)
    except ImportError:
        pass
    found = ctypes.util.find_library(stem)
    if found:
        out.append(found)
    return out


def _load(stem):
    tried = _candidates(stem)
    errors = []
    for path in tried:
        try:
            # RTLD_GLOBAL: libxai-formats resolves libxai's symbols against this copy
            return _C.CDLL(path, mode=_C.RTLD_GLOBAL)
        except OSError as e:
            errors.append("%s: %s" % (path, e))
    raise ImportError("libxai: cannot load lib%s.so (set XAI_LIBRARY_PATH to the directory that holds it, "
                      "or install libxai with meson install)%s" % (stem, "".join("\n  " + e for e in errors)))


xai = _load("xai")
formats = _load("xai-formats")

xai.xai_last_error.restype = c_char_p
xai.xai_last_error.argtypes = []
xai.xai_strerror.restype = c_char_p
xai.xai_strerror.argtypes = [c_int]
xai.xai_version.restype = c_char_p
xai.xai_version.argtypes = []
xai.xai_free.restype = None
xai.xai_free.argtypes = [c_void_p]
xai.xai_error_clear.restype = None
xai.xai_error_clear.argtypes = []


def last_error():
    msg = xai.xai_last_error()
    return msg.decode("utf-8", "replace") if msg else ""


def check(status, what=None):
    """Raise the exception of a non-zero xai_status, carrying xai_last_error()."""
    if status != 0:
        detail = last_error() or xai.xai_strerror(status).decode()
        raise_for(status, "%s: %s" % (what, detail) if what else detail)


def bind(lib, name, restype, *argtypes):
    """Declare the prototype of one C function and return it."""
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


def take_string(ptr):
    """Copy a char* that libxai allocated into a Python str and free it with xai_free()."""
    if not ptr:
        return None
    try:
        return _C.string_at(ptr).decode("utf-8", "replace")
    finally:
        xai.xai_free(ptr)


def encode(s):
    return None if s is None else os.fsencode(s) if not isinstance(s, bytes) else s
