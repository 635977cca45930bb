#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""NumPy baseline for bench-lstm: time per explained sequence of an LSTM with Arras et al.'s
LRP-all, computed the way their NumPy reference code does it (per-step loops, lrp_linear with
explicit weight matrices, float64). The forward and relevance loops are the ones that generate
the test fixtures (tests/data/lstm/make_lstm_models.py: lstm_dir, lstm_lrp_dir), followed by a
dense head on the last hidden state(s) (the bench's "lstm(H[,bidirectional],last) dense(2)").

    /usr/bin/python3 tests/bench/bench_lstm_numpy.py --dir uni|bidi --t 30 --d 8 --h 16 [--reps R] [--blas-threads N]

Prints one line: "numpy <dir> T=<T> D=<D> H=<H> <median ms> <min ms>". Needs python3-numpy
(the fixture module also imports python3-onnx).

NumPy's BLAS runs on one thread, as libxai does with bench-lstm --threads 1 (set before NumPy is
imported; --blas-threads changes it): the products here are one step's matrix-vector products,
and with two BLAS threads the CPU time per sequence was no lower (D=8, H=16 and D=64, H=128 on
a 2-core machine). The times are CPU time of the process
(time.process_time), so other processes on the machine do not lengthen them: on a shared
2-core machine the wall time per sequence varied about 4x from run to run.
"""
import argparse
import os
import sys
import time


def blas_threads_from_argv():
    """the --blas-threads value (default 1), read before NumPy (and its BLAS) is loaded"""
    argv = sys.argv
    for k, a in enumerate(argv):
        if a == "--blas-threads" and k + 1 < len(argv):
            return argv[k + 1]
        if a.startswith("--blas-threads="):
            return a.split("=", 1)[1]
    return "1"


for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_var] = blas_threads_from_argv()

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "lstm"))
import make_lstm_models as ref  # noqa: E402


def explain_one(x, W, R, Bb, Wd, bd, ndir, beta):
    """forward and LRP-all of one sequence x [T,D]; returns the input relevance [T,D]"""
    T, D = x.shape
    H = R.shape[2]
    dirs, last = [], []
    for d in range(ndir):
        bias = Bb[d, :4 * H] + Bb[d, 4 * H:]
        recs, h, c, order = ref.lstm_dir(x, W[d], R[d], bias, np.zeros(H), np.zeros(H), T, d == 1)
        dirs.append((recs, order, bias))
        last.append(h)
    feat = np.concatenate(last)
    logits = Wd @ feat + bd
    k = int(np.argmax(logits))
    rel_out = np.zeros_like(logits)
    rel_out[k] = logits[k]
    rfeat = ref.lrp_linear(feat, Wd.T, bd, logits, rel_out, feat.size, beta)
    rx = np.zeros((T, D))
    for d in range(ndir):
        recs, order, bias = dirs[d]
        Wc, Rc, bc = W[d][3 * H:], R[d][3 * H:], bias[3 * H:]
        zeros = np.zeros(H)
        rxd, _, _ = ref.lstm_lrp_dir(x, recs, order, Wc, Rc, bc, np.zeros((T, H)), rfeat[d * H:(d + 1) * H], zeros,
                                     beta)
        rx += rxd
    return rx


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", choices=["uni", "bidi"], default="uni")
    ap.add_argument("--t", type=int, default=30)
    ap.add_argument("--d", type=int, default=8)
    ap.add_argument("--h", type=int, default=16)
    ap.add_argument("--beta", type=float, default=0.0)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--blas-threads", type=int, default=1, help="threads of NumPy's BLAS [1]")
    a = ap.parse_args()
    rng = np.random.default_rng(1)
    ndir = 2 if a.dir == "bidi" else 1
    T, D, H = a.t, a.d, a.h
    s = 1.0 / np.sqrt(H)
    W = rng.uniform(-s, s, (ndir, 4 * H, D))
    R = rng.uniform(-s, s, (ndir, 4 * H, H))
    Bb = rng.uniform(-s, s, (ndir, 8 * H))
    Wd = rng.uniform(-0.3, 0.3, (2, ndir * H))
    bd = rng.uniform(-0.1, 0.1, 2)
    x = rng.uniform(-1, 1, (T, D))
    explain_one(x, W, R, Bb, Wd, bd, ndir, a.beta)  # warm-up
    times = []
    for _ in range(max(1, a.reps)):
        t0 = time.process_time()
        explain_one(x, W, R, Bb, Wd, bd, ndir, a.beta)
        times.append((time.process_time() - t0) * 1e3)
    times.sort()
    print("numpy %s T=%d D=%d H=%d %.4f %.4f" % (a.dir, T, D, H, times[len(times) // 2], times[0]))


if __name__ == "__main__":
    main()
