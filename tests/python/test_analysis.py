#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""SpRAy and the evaluation metrics from NumPy arrays give xai-spray's and xai-evaluate's numbers.

SpRAy: maps with planted strategies (class 0 looks at one of two places, class 1 at one);
clusters, embeddings, eigenvalues, FDA scores, ranking and cluster means as xai-spray writes
them, with default and non-default options, and the planted split is found.
Metrics: every metric of xai-evaluate --metrics all on the bundled example (with its truth
mask), for LRP and the gradient, per sample and as means with intervals; relevance given or
computed inside; targets per sample.
"""
import csv
import os
import tempfile

from common import SOURCE, check, done, np, program, run

import libxai


def read_tsv(path):
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def num(v):
    return float("nan") if v in ("n/a", "") else float(v)


def eq(a, b):
    """Equal as the TSV writer keeps them (shortest round-trip text), NaN equal to NaN."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


def planted_maps(rng):
    n0, n1 = 40, 30
    maps = rng.normal(0, 0.05, (n0 + n1, 4, 16)).astype(np.float32)
    strategy = np.r_[np.arange(n0) % 2, np.full(n1, 2)]
    for i, s in enumerate(strategy):
        ch, t0 = {0: (0, 2), 1: (3, 10), 2: (1, 6)}[int(s)]
        maps[i, ch, t0:t0 + 4] += rng.uniform(0.8, 1.2)
    return maps, np.r_[np.zeros(n0), np.ones(n1)].astype(np.int64), strategy


def spray_case(tmp, rng):
    maps, y, strategy = planted_maps(rng)
    np.save(os.path.join(tmp, "maps.npy"), maps)
    np.save(os.path.join(tmp, "y.npy"), y)
    for opts, kw in (([], {}),
                     (["--pool", "2x4", "--clusters", "3", "--signed", "--norm", "max", "--seed", "5", "--knn", "5",
                       "--solver", "lanczos"],
                      dict(pool=(2, 4), clusters=3, signed=True, norm="max", seed=5, knn=5, solver="lanczos"))):
        out = os.path.join(tmp, "spray%d" % len(opts))
        p = run(program("xai-spray"), os.path.join(tmp, "maps.npy"), "--labels", os.path.join(tmp, "y.npy"),
                "-o", out, "-q", "-f", "--nthreads", "1", *opts)
        if not check(p.returncode == 0, "xai-spray %s runs" % " ".join(opts)):
            continue
        r = libxai.spray(maps, y, **kw)
        what = "spray(%s)" % (kw or "defaults")
        rank = read_tsv(os.path.join(out, "ranking.tsv"))
        check(r.ranking == [int(row["class"]) for row in rank], "%s: ranking %s as ranking.tsv" % (what, r.ranking))
        check(all(eq([r.classes[int(row["class"])].fda, r.classes[int(row["class"])].fda_ratio,
                      r.classes[int(row["class"])].fda_null, r.classes[int(row["class"])].n_clusters],
                     [num(row["fda_score"]), num(row["fda_ratio"]), num(row["fda_null"]), num(row["n_clusters"])])
                  for row in rank), "%s: FDA score, null, ratio and k of each class as ranking.tsv" % what)
        rows = read_tsv(os.path.join(out, "clusters.tsv"))
        got = {}
        for c, cc in r.classes.items():
            for j, i in enumerate(cc.index):
                got[int(i)] = (c, cc.clusters[j], cc.embedding2d[j, 0], cc.embedding2d[j, 1])
        check(all(eq(got[int(row["index"])], [num(row[k]) for k in ("class", "cluster", "x", "y")]) for row in rows)
              and len(rows) == len(maps), "%s: cluster and 2-D embedding of all %d maps as clusters.tsv" % (what, len(rows)))
        ev = read_tsv(os.path.join(out, "eigenvalues.tsv"))
        check(all(eq(r.classes[c].eigenvalues, [num(e["eigenvalue"]) for e in ev if int(e["class"]) == c])
                  for c in r.classes), "%s: Laplacian spectra as eigenvalues.tsv" % what)
        check(all(np.array_equal(r.classes[c].cluster_means, np.load(os.path.join(out, "class-%d-cluster-means.npy" % c)))
                  for c in r.classes), "%s: cluster mean maps as class-C-cluster-means.npy" % what)
    r = libxai.spray(maps, y)
    c0 = r.classes[0]
    split = {tuple(sorted(set(c0.clusters[strategy[c0.index] == s]))) for s in (0, 1)}
    check(r.ranking[0] == 0 and c0.n_clusters == 2 and split == {(0,), (1,)},
          "planted: class 0 ranked first (ratio %.2f vs %.2f), its two strategies are its two clusters"
          % (c0.fda_ratio, r.classes[1].fda_ratio))
    try:
        libxai.spray(maps[:2])
        check(False, "two maps raise")
    except libxai.XaiValueError as e:
        check(True, "two maps: %s" % e)
    bad = maps.copy()
    bad[5, 0, 0] = np.nan
    try:
        libxai.spray(bad, y)
        check(False, "a NaN map raises")
    except libxai.XaiNumericError as e:
        check("5" in str(e), "a NaN map: XaiNumericError naming the map: %s" % e)


def eval_case(tmp):
    model = os.path.join(SOURCE, "datasets/example/model.onnx")
    xpath, tpath = os.path.join(SOURCE, "datasets/example/input.npy"), os.path.join(SOURCE, "datasets/example/truth.npy")
    x, truth = np.load(xpath), np.load(tpath)
    m = libxai.Model(model)
    common = ["--metrics", "all", "--truth", tpath, "--patch", "8", "--steps", "12", "--fc-runs", "16",
              "--infid-runs", "16", "--sens-runs", "3", "--seed", "7", "-q", "-f", "--nthreads", "1"]
    kw = dict(truth=truth, patch=8, steps=12, fc_runs=16, infid_runs=16, sens_runs=3, seed=7)
    for label, method, ekw in (("lrp:epsilon-plus-flat", "lrp", dict(composite="epsilon-plus-flat")),
                               ("gradient", "gradient", {}),
                               ("lrp:epsilon-gamma-box", "lrp", dict(composite="epsilon-gamma-box"))):
        out = os.path.join(tmp, "eval-" + label.replace(":", "-"))
        p = run(program("xai-evaluate"), model, xpath, "-o", out, "--methods", label, *common)
        if not check(p.returncode == 0, "xai-evaluate --methods %s --metrics all runs" % label):
            print(p.stderr)
            continue
        r = libxai.evaluate(m, x, method=method, **ekw, **kw)
        check(sorted(r.scores) == sorted(libxai.METRICS), "%s: all %d metrics computed" % (label, len(r.scores)))
        rows = read_tsv(os.path.join(out, "metrics_samples.tsv"))
        check([int(row["class"]) for row in rows] == list(r.targets), "%s: classes as metrics_samples.tsv" % label)
        bad = [k for k in r.scores if not eq(r[k].samples, [num(row["%s/%s" % (label, k)]) for row in rows])]
        check(not bad, "%s: per-sample values of every metric as metrics_samples.tsv%s" % (label, bad or ""))
        means = {row["metric"]: row for row in read_tsv(os.path.join(out, "metrics.tsv"))}
        bad = [k for k, s in r.scores.items()
               if not eq([s.mean, s.ci_low, s.ci_high, s.sd, s.n_finite],
                         [num(means[k][c]) for c in ("mean", "ci_low", "ci_high", "sd", "n")])]
        check(not bad, "%s: means, 95 %% intervals, sd and n as metrics.tsv%s (mass accuracy %.3f, MPRT %.3f)"
              % (label, bad or "", r["mass-accuracy"].mean, r["mprt"].mean))
        mprt = [row for row in read_tsv(os.path.join(out, "mprt.tsv"))]
        check([row["layer"] for row in mprt] == r.mprt_layers and
              eq(r.mprt_mean, [num(row["spearman"]) for row in mprt]) and
              np.allclose(np.nanmean(r.mprt_rho, axis=0), r.mprt_mean, rtol=1e-12),
              "%s: MPRT layers %s and their mean Spearman %s as mprt.tsv" % (label, r.mprt_layers, r.mprt_mean))
    rel = m.explain(x, init="logit")
    given = libxai.evaluate(m, x, metrics="faithfulness,localisation,complexity", relevance=rel, **kw)
    inside = libxai.evaluate(m, x, metrics=["faithfulness", "localisation", "complexity"], **kw)
    check(all(eq(given[k].samples, inside[k].samples) for k in given.scores),
          "maps given = maps computed inside, on %d metrics" % len(given.scores))
    t = [1, 0] * (len(x) // 2)
    per = libxai.evaluate(m, x, metrics="localisation", target=t, **kw)
    for c in (0, 1):
        one = libxai.evaluate(m, x, metrics="localisation", target=c, **kw)
        rows = [s for s in range(len(t)) if t[s] == c]
        check(eq(per["mass-accuracy"].samples[rows], one["mass-accuracy"].samples[rows]),
              "per-sample targets: samples %s as target=%d" % (rows, c))
    for bad_kw, what in ((dict(metrics="mass-accuracy"), "a localisation metric without truth"),
                         (dict(metrics="aopc-morff"), "an unknown metric"),
                         (dict(metrics="aopc-morf", patch="3x3x3x3x3"), "a patch that does not fit")):
        try:
            libxai.evaluate(m, x, **bad_kw)
            check(False, "%s raises" % what)
        except libxai.XaiValueError as e:
            check(True, "%s: %s" % (what, str(e)[:110]))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        spray_case(tmp, np.random.default_rng(3))
        eval_case(tmp)
    done()


main()
