# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared pieces of the Python package's tests: the skip rule, checks, running the programs.

The tests run /usr/bin/python3 (Debian's numpy, mne, nibabel) against the build tree's
libraries (XAI_LIBRARY_PATH, set by tests/meson.build) and the package in the source tree.
"""
import os
import subprocess
import sys

if os.environ.get("XAI_PYTHON_SKIP"):
    print("SKIP: " + os.environ["XAI_PYTHON_SKIP"])
    sys.exit(77)
try:
    import numpy as np
except ImportError:
    print("SKIP: numpy is not installed for %s (apt-get install python3-numpy)" % sys.executable)
    sys.exit(77)

SOURCE = os.environ.get("XAI_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("XAI_BUILD_ROOT", "")
SHARED = os.environ.get("XAI_SHARED_DIR", os.path.join(SOURCE, "..", "shared"))
_fails = [0]


def check(cond, what):
    print(("ok - " if cond else "FAIL - ") + what, flush=True)
    _fails[0] += 0 if cond else 1
    return cond


def done():
    print("%d failed" % _fails[0])
    sys.exit(1 if _fails[0] else 0)


def program(name):
    return os.path.join(BUILD, "apps", name)


def run(*args, ok=True):
    """Run a program of the suite; the Python process may carry the ASan runtime preloaded and
    leak checks off (see tests/meson.build), the programs get their own settings back."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    if "XAI_CHILD_ASAN_OPTIONS" in env:
        env["ASAN_OPTIONS"] = env["XAI_CHILD_ASAN_OPTIONS"]
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env)
    if ok and p.returncode != 0:
        print("command failed (%d): %s\n%s" % (p.returncode, " ".join(map(str, args)), p.stderr))
    return p


def max_rel(a, b):
    """Largest |a - b| relative to the largest |b| (0 for identical arrays)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return float("inf")
    scale = max(float(np.max(np.abs(b))) if b.size else 0.0, 1e-30)
    return float(np.max(np.abs(a - b))) / scale if a.size else 0.0
