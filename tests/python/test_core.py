#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Python package against xai-explain: loading, the card, forward, explain with every
method, composites, rule overrides, targets and batch sizes give the same numbers as the
program (bitwise, else at most 1e-7 of the map's largest value), on every bundled model;
errors carry the library's message, the same text the program prints.

Usage: test_core.py   (paths from XAI_SOURCE_ROOT / XAI_BUILD_ROOT; exits 77 without numpy)
"""
import json
import os
import tempfile

from common import check, done, max_rel, np, program, run, SOURCE

import libxai

XE = program("xai-explain")
MODELS = ["example/model.onnx", "eeg/mi-shallow.onnx", "fmri/model-dense.onnx", "fmri/model-cnn3d.onnx",
          "gait/model-subject.onnx", "speech/model-digits.onnx"]
# (xai-explain options, the same as keyword arguments of libxai.explain)
CONFIGS = [
    ([], {}),
    (["--composite", "epsilon-gamma-box", "--low", "-3", "--high", "3"],
     dict(composite="epsilon-gamma-box", low=-3, high=3)),
    (["--rule", "first=zbox(-3,3); Conv=gamma(0.1)", "--rule", "Dense=epsilon(0.01)", "--class", "1"],
     dict(rules=["first=zbox(-3,3); Conv=gamma(0.1)", "Dense=epsilon(0.01)"], target=1)),
    (["--composite", "epsilon-alpha2-beta1-flat", "--bias-factor", "1", "--init", "logit"],
     dict(composite="epsilon-alpha2-beta1-flat", bias_factor=1, init="logit")),
    (["--composite", "epsilon"], dict(composite="epsilon")),
    (["--composite", "epsilon-plus", "--class", "0"], dict(composite="epsilon-plus", target=0)),
    (["--composite", "epsilon-alpha2-beta1", "--init", "onehot"], dict(composite="epsilon-alpha2-beta1", init="onehot")),
    (["--bn", "pass", "--epsilon", "0.01", "--gamma", "0.5", "--batch", "2"],
     dict(bn="pass", epsilon=0.01, gamma=0.5, batch=2)),
    (["--method", "gradient"], dict(method="gradient")),
    (["--method", "gradient-x-input", "--class", "0"], dict(method="gradient-x-input", target=0)),
    (["--method", "smoothgrad"], dict(method="smoothgrad")),
    (["--method", "integrated-gradients"], dict(method="integrated-gradients")),
]
worst = [0.0, 0]  # largest relative difference seen, and how many comparisons were not bitwise


def same(a, b, what):
    d = max_rel(a, b)
    worst[0] = max(worst[0], d)
    worst[1] += 0 if np.array_equal(a, b) else 1
    return check(d <= 1e-7, "%s (max rel diff %.2g%s)" % (what, d, ", bitwise" if np.array_equal(a, b) else ""))


def cli_explain(model, xpath, opts, tmp, tag):
    out, js = os.path.join(tmp, tag + ".npy"), os.path.join(tmp, tag + ".json")
    p = run(XE, model, xpath, "-o", out, "--json", js, "--layers", "-q", "-f", *opts)
    if p.returncode != 0:
        return None, None
    with open(js) as f:
        return np.load(out), json.load(f)


def model_case(rel_path, tmp, rng):
    path = os.path.join(SOURCE, "datasets", rel_path)
    m = libxai.Model(path)
    name = rel_path.replace("/", "-")
    n = 3
    x = rng.normal(0, 1, (n,) + m.input_shape).astype(np.float32)
    xpath = os.path.join(tmp, name + "-x.npy")
    np.save(xpath, x)
    check(m.input_size == int(np.prod(m.input_shape)), "%s: input shape %s" % (name, m.input_shape))
    for i, (opts, kw) in enumerate(CONFIGS):
        ref, js = cli_explain(path, xpath, opts, tmp, "%s-%d" % (name, i))
        if not check(ref is not None, "%s: xai-explain %s runs" % (name, " ".join(opts))):
            continue
        rel, info = m.explain(x, return_info=True, **kw)
        same(rel, ref, "%s: %s = xai-explain %s" % (name, kw or "defaults", " ".join(opts)))
        logits = np.array([s["logits"] for s in js["samples"]], np.float32)
        check(np.array_equal(info.logits, logits) and
              [int(t) for t in info.targets] == [s["class"] for s in js["samples"]],
              "%s: logits and classes as xai-explain's JSON" % name)
        if i == 0:
            same(m.forward(x), logits, "%s: forward = the logits xai-explain reports" % name)
            sums = np.array([s["relevance_sum"] for s in js["samples"]])
            check(np.allclose(info.relevance_sum, sums, rtol=1e-6, atol=0), "%s: relevance sums as the JSON" % name)
            layer = [l["name"] for l in js["samples"][0]["layers"]]
            check([l["name"] for l in info.layers] == layer, "%s: per-layer report names %d nodes" % (name, len(layer)))
            one = m.explain(x[1])
            check(one.shape == m.input_shape and np.array_equal(one, rel[1]),
                  "%s: one unstacked sample comes back in its shape, equal to its row of the stack" % name)
    return m, x, xpath, path


def targets_case(m, x, xpath, path, tmp):
    """Per-sample targets equal explaining each class alone (the CLI takes one class per run)."""
    nc = m.n_outputs
    t = [(s * 2 + 1) % nc for s in range(x.shape[0])]
    rel = m.explain(x, target=t)
    for c in sorted(set(t)):
        ref, _ = cli_explain(path, xpath, ["--class", str(c)], tmp, "targets-%d" % c)
        rows = [s for s in range(len(t)) if t[s] == c]
        same(rel[rows], ref[rows], "per-sample targets: samples %s with class %d as xai-explain --class %d"
             % (rows, c, c))
    names = m.classes
    if names:
        by_name = m.explain(x, target=[names[k] for k in t])
        check(np.array_equal(by_name, rel), "targets by class name (%s) = by index" % names[t[0]])
    mixed = m.explain(x, target=[-1] + t[1:])
    pred = m.explain(x[:1])
    check(np.array_equal(mixed[0], pred[0]), "target -1 inside a list is the argmax")


def box_case(tmp, rng):
    """Per-element z-box bounds as keyword arrays = xai-explain --box-low/--box-high; refused
    when one is missing or shaped unlike x."""
    m = libxai.Model(os.path.join(SOURCE, "datasets", "eeg", "mi-shallow.onnx"))
    x = rng.normal(0, 1, (2,) + m.input_shape).astype(np.float32)
    low = x - np.abs(rng.normal(0, 1, x.shape)).astype(np.float32)
    high = x + np.abs(rng.normal(0, 1, x.shape)).astype(np.float32)
    paths = [os.path.join(tmp, "box-%s.npy" % k) for k in ("x", "low", "high")]
    for pth, a in zip(paths, (x, low, high)):
        np.save(pth, a)
    ref, _ = cli_explain(m.path, paths[0], ["--composite", "epsilon-gamma-box", "--box-low", paths[1],
                                             "--box-high", paths[2]], tmp, "box")
    if check(ref is not None, "xai-explain --box-low/--box-high runs"):
        rel = m.explain(x, composite="epsilon-gamma-box", box_low=low, box_high=high)
        same(rel, ref, "box_low/box_high = xai-explain --box-low/--box-high")
        own = m.explain(x, composite="epsilon-gamma-box")
        check(not np.array_equal(rel, own), "the per-element bounds change the map (else the test shows nothing)")
    for kw, what in ((dict(box_low=low), "box_low alone"), (dict(box_low=low[:1], box_high=high[:1]), "one sample's bounds")):
        try:
            m.explain(x, composite="epsilon-gamma-box", **kw)
            check(False, "%s raises" % what)
        except libxai.XaiValueError as e:
            check(True, "%s: XaiValueError %r" % (what, str(e)[:100]))


def errors_case(tmp):
    """Failures raise XaiError subclasses carrying the library's message, as the program prints it."""
    missing = os.path.join(tmp, "nope.onnx")
    try:
        libxai.Model(missing)
        check(False, "a missing model raises")
    except libxai.XaiError as e:
        p = run(XE, missing, os.path.join(SOURCE, "datasets/example/input.npy"), "-o", os.path.join(tmp, "e.npy"),
                ok=False)
        check(isinstance(e, OSError) and missing in str(e) and str(e) in p.stderr,
              "missing model: %s (%s), the text of xai-explain's error" % (type(e).__name__, e))
    m = libxai.Model(os.path.join(SOURCE, "datasets/example/model.onnx"))
    x = np.load(os.path.join(SOURCE, "datasets/example/input.npy"))
    for kw, opt, kind in ((dict(composite="epsilon-plus-flatt"), ["--composite", "epsilon-plus-flatt"], ValueError),
                          (dict(rules="Conv=gama(1)"), ["--rule", "Conv=gama(1)"], ValueError),
                          (dict(method="lime"), ["--method", "lime"], ValueError)):
        try:
            m.explain(x, **kw)
            check(False, "%s raises" % kw)
        except libxai.XaiError as e:
            p = run(XE, m.path, os.path.join(SOURCE, "datasets/example/input.npy"), "-o",
                    os.path.join(tmp, "e.npy"), *opt, ok=False)
            core = str(e).split(": ", 1)[-1]
            check(isinstance(e, kind) and e.status == 2 and core in p.stderr and p.returncode == 2,
                  "%s: %s %r; xai-explain says the same and exits 2" % (kw, type(e).__name__, str(e)[:90]))
    for bad, what in ((np.zeros((2, 3, 5), np.float32), "wrong shape"), (x, "target out of range")):
        try:
            m.explain(bad, target=7 if what.startswith("target") else "pred")
            check(False, "%s raises" % what)
        except libxai.XaiValueError as e:
            check(True, "%s: XaiValueError %r" % (what, str(e)[:100]))
    bad_onnx = os.path.join(tmp, "bad.onnx")
    with open(bad_onnx, "wb") as f:
        f.write(b"\x08\x07\x12\x04junk" * 3)
    try:
        libxai.Model(bad_onnx)
        check(False, "a malformed ONNX raises")
    except libxai.XaiError as e:
        check(e.status in (5, 6) and bad_onnx in str(e), "malformed ONNX: %s %r" % (e.status_name, str(e)[:100]))


def close(a, b):
    """JSON values equal, numbers to the 15 digits xai-train card --show prints."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(close(u, v) for u, v in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) <= 1e-14 * max(abs(a), abs(b), 1e-300)
    return a == b


def card_case():
    for rel_path in ("speech/model-digits.onnx", "eeg/mi-shallow.onnx"):
        m = libxai.Model(os.path.join(SOURCE, "datasets", rel_path))
        card = m.card
        p = run(program("xai-train"), "card", m.path, "--show")
        text, _, warn = p.stdout.partition("\nwarnings:")
        shown = [w.strip()[2:] for w in warn.splitlines() if w.strip().startswith("- ")]
        check(card.get("card_version") == 1 and close(card, json.loads(text)),
              "%s: card as a dict (%d keys), equal to xai-train card --show" % (rel_path, len(card)))
        check(m.card_warnings == shown, "%s: card warnings as xai-train prints them: %s" % (rel_path, shown))
        check(m.classes == card.get("classes") and len(m.classes) == m.n_outputs,
              "%s: classes %s from the card, one per output" % (rel_path, m.classes[:4]))


def symbolic_case(tmp):
    """A model with a symbolic time axis takes its length from the input, as in xai-explain."""
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        print("SKIP (symbolic dimensions): python3-onnx is not installed")
        return
    rng = np.random.default_rng(5)
    nodes = [helper.make_node("Conv", ["input", "W", "b"], ["c"], kernel_shape=[3], pads=[1, 1]),
             helper.make_node("Relu", ["c"], ["r"]), helper.make_node("GlobalAveragePool", ["r"], ["p"]),
             helper.make_node("Flatten", ["p"], ["f"]), helper.make_node("Gemm", ["f", "G", "gb"], ["logits"], transB=1)]
    inits = [numpy_helper.from_array(rng.standard_normal(s).astype(np.float32), k)
             for k, s in (("W", (4, 2, 3)), ("b", (4,)), ("G", (2, 4)), ("gb", (2,)))]
    g = helper.make_graph(nodes, "sym", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 2, "time"])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 2])], initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    path = os.path.join(tmp, "sym.onnx")
    onnx.save(m, path)
    try:
        libxai.Model(path)
        check(False, "a symbolic model without input_shape raises")
    except libxai.XaiUnsupportedError as e:
        check("symbolic" in str(e), "a symbolic model without input_shape: %s" % str(e)[:100])
    for shape in ((1, 2, 37), (5, 2, 50)):
        x = rng.standard_normal(shape).astype(np.float32)
        xpath = os.path.join(tmp, "sym-x.npy")
        np.save(xpath, x)
        ref, _ = cli_explain(path, xpath, [], tmp, "sym")
        rel = libxai.explain(path, x)
        same(rel, ref, "symbolic time axis from an input of shape %s = xai-explain" % (shape,))
    fixed = libxai.Model(path, input_shape=(1, 2, 64))
    check(fixed.input_shape == (1, 2, 64), "input_shape fixes the symbolic axes: %s" % (fixed.input_shape,))
    m = libxai.Model.for_input(path, np.zeros((1, 2, 29), np.float32))
    check(m.input_shape == (1, 2, 29), "Model.for_input takes the time axis from x: %s" % (m.input_shape,))
    try:
        libxai.Model.for_input(path, np.zeros(29, np.float32))
        check(False, "Model.for_input with an x of no usable shape raises")
    except libxai.XaiUnsupportedError as e:
        check("symbolic" in str(e) and "sym.onnx" in str(e), "for_input's error is the plain load's: %s" % str(e)[:100])


def pad_case(tmp, rng):
    """Pad, cropping and padding on several axes at once, against numpy's pad and slicing."""
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    for shape, pads in [((1, 3, 5), [0, 1, -2, 0, 2, 3]), ((1, 4, 3, 2), [0, -1, 2, 1, 0, 3, -1, 0]),
                        ((1, 3, 4), [0, -2, 5, 0, 1, -3]), ((1, 2, 2, 2), [0, 3, 0, 0, 0, 0, 2, 1])]:
        nd = len(shape)
        x = rng.standard_normal(shape).astype(np.float32)
        want = x
        for d in range(nd):
            b, e = pads[d], pads[d + nd]
            width = [(0, 0)] * nd
            width[d] = (max(b, 0), max(e, 0))
            want = np.pad(want, width, constant_values=0.5)
            cut = [slice(None)] * nd
            cut[d] = slice(max(-b, 0), want.shape[d] + min(e, 0))
            want = want[tuple(cut)]
        w = rng.standard_normal((3, want[0].size)).astype(np.float32)
        inits = [numpy_helper.from_array(np.array(pads, np.int64), "pads"),
                 numpy_helper.from_array(np.array([0.5], np.float32), "pv"), numpy_helper.from_array(w, "W")]
        nodes = [helper.make_node("Pad", ["input", "pads", "pv"], ["p"], mode="constant"),
                 helper.make_node("Flatten", ["p"], ["f"], axis=1),
                 helper.make_node("Gemm", ["f", "W"], ["logits"], transB=1)]
        g = helper.make_graph(nodes, "pad", [helper.make_tensor_value_info("input", TensorProto.FLOAT, list(shape))],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 3])], inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
        m.ir_version = 7
        path = os.path.join(tmp, "pad.onnx")
        onnx.save(m, path)
        got = libxai.Model(path).forward(x)
        check(np.allclose(got, want.reshape(1, -1) @ w.T, atol=1e-4), "Pad %s on %s against numpy" % (pads, shape))


def main():
    check(libxai.version().count(".") == 2, "libxai %s loaded from %s" % (libxai.version(), libxai._lib.xai._name))
    rng = np.random.default_rng(20)
    with tempfile.TemporaryDirectory() as tmp:
        last = None
        for rel_path in MODELS:
            last = model_case(rel_path, tmp, rng)
            if rel_path == "speech/model-digits.onnx":
                targets_case(*last, tmp)
        errors_case(tmp)
        box_case(tmp, rng)
        card_case()
        symbolic_case(tmp)
        pad_case(tmp, rng)
    print("largest relative difference to xai-explain: %.3g; comparisons not bitwise: %d" % tuple(worst))
    done()


main()
