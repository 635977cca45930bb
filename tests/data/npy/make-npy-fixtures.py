#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# make-npy-fixtures.py - regenerate the tiny .npy fixtures used by tests/test-npy.c.
# Needs NumPy (Debian python3-numpy): /usr/bin/python3 make-npy-fixtures.py
# Values follow formulas that test-npy.c recomputes, so the test checks real NumPy output.
import numpy as np
from numpy.lib import format as npf


def seq(n, dtype):
    # v[i] = (i - 3) * 0.25, exact in float32 and float64
    return ((np.arange(n, dtype=np.float64) - 3.0) * 0.25).astype(dtype)


def save(name, arr, version=None):
    with open(name, 'wb') as f:
        npf.write_array(f, arr, version=version, allow_pickle=False)


save('f4-le-2x3.npy', seq(6, '<f4').reshape(2, 3))
save('f4-be-3x4.npy', seq(12, '>f4').reshape(3, 4))
# float64: v[i] = i * 0.1 - 0.5 (not exact in float32: tests compare with (float)(double))
save('f8-le-5.npy', (np.arange(5, dtype='<f8') * 0.1 - 0.5))
save('f8-be-2x2x2.npy', (np.arange(8, dtype='>f8') * 0.1 - 0.5).reshape(2, 2, 2))
# float64 values outside float32 range and special values
save('f8-special.npy', np.array([1e300, -1e300, np.inf, np.nan, 1e-300, -0.0], dtype='<f8'))
save('f4-scalar.npy', np.array(2.5, dtype='<f4'))
save('f4-empty-0.npy', np.zeros((0,), dtype='<f4'))
save('f4-empty-2x0.npy', np.zeros((2, 0), dtype='<f4'))
save('f4-v2-4.npy', seq(4, '<f4'), version=(2, 0))
save('f4-v3-4.npy', seq(4, '<f4'), version=(3, 0))
save('f4-4d.npy', seq(2 * 1 * 3 * 2, '<f4').reshape(2, 1, 3, 2))
# refused inputs
save('f4-fortran-2x3.npy', np.asfortranarray(seq(6, '<f4').reshape(2, 3)))
save('i4-3.npy', np.arange(3, dtype='<i4'))
save('f2-3.npy', np.arange(3, dtype='<f2'))
save('c8-2.npy', np.arange(2, dtype='<c8'))
save('u1-3.npy', np.arange(3, dtype='u1'))
save('struct-2.npy', np.zeros(2, dtype=[('a', '<f4'), ('b', '<i2')]))
