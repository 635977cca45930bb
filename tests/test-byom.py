#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bring your own model: a 1-D CNN trained and exported by PyTorch gets a model card with
`xai-train card --set ...` and is explained by xai-explain.

Usage: test-byom.py XAI_TRAIN XAI_EXPLAIN

Data with a known truth: two channels of noise; class 0 carries a bump on channel 0 in samples
16-24, class 1 on channel 1 in samples 40-48. Checks:
  - the card is written without touching the graph and reads back (JSON, warnings, exit codes);
  - xai-explain's gradient and gradient x input equal torch.autograd's (rel L2 < 1e-4);
  - LRP with the epsilon rule equals the same rule written out in torch (rel L2 < 1e-4);
  - the relevance of each class lies in its planted window (> 30 % of it in 6 % of the input).
Exits 77 (skip) when PyTorch or the onnx module is missing.
"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import onnx
    import torch
except ImportError as e:  # the test needs Debian's python3-torch and python3-onnx
    print(f"SKIP: {e.name} is not installed (apt-get install python3-torch python3-onnx)")
    sys.exit(77)

XT, XE = sys.argv[1], sys.argv[2]
C, T, N = 2, 64, 256
WINDOWS = {0: (0, 16, 24), 1: (1, 40, 48)}  # class -> (channel, first, last+1)
fails = 0


def check(cond, what):
    global fails
    print(("ok - " if cond else "FAIL - ") + what)
    fails += 0 if cond else 1


def run(*args):
    p = subprocess.run(args, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def rel_l2(a, b):
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def make_data(rng):
    y = rng.integers(0, 2, N)
    x = rng.normal(0, 0.5, (N, 1, C, T)).astype(np.float32)
    bump = np.hanning(8).astype(np.float32) * 3
    for i, c in enumerate(y):
        ch, a, b = WINDOWS[int(c)]
        x[i, 0, ch, a:b] += bump
    return x, y


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv1d(C, 4, 5, padding=2)
        self.fc = torch.nn.Linear(4 * T, 2)

    def forward(self, x):  # x: (B, 1, C, T)
        a = torch.relu(self.conv(x.reshape(-1, C, T)))
        return self.fc(a.flatten(1))


def train(x, y):
    torch.manual_seed(0)
    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(60):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(xt), yt)
        loss.backward()
        opt.step()
    acc = float((net(xt).argmax(1) == yt).float().mean())
    return net, acc


def stab(z, eps):
    return z + eps * torch.where(z >= 0, torch.ones_like(z), -torch.ones_like(z))


def lrp_epsilon(net, x, target, eps):
    """The epsilon rule (Bach et al. 2015) on conv -> relu -> linear, one-hot start."""
    with torch.no_grad():
        x3 = x.reshape(-1, C, T)
        z1 = net.conv(x3)
        a1 = torch.relu(z1).flatten(1)
        z2 = net.fc(a1)
        r2 = torch.nn.functional.one_hot(target, 2).float()
        r1 = a1 * ((r2 / stab(z2, eps)) @ net.fc.weight)
        s1 = r1.reshape(z1.shape) / stab(z1, eps)  # ReLU passes relevance on
        c0 = torch.nn.functional.conv_transpose1d(s1, net.conv.weight, padding=2)
        return (x3 * c0).reshape(x.shape)


def card_checks(tmp, model):
    carded = os.path.join(tmp, "carded.onnx")
    sets = ["domain=generic", "task=which channel carries the bump", "classes=early-ch0,late-ch1",
            'input.axes=["channel","time"]', 'input.units=["","s"]', "input.sampling_rate_hz=64",
            "input.channel_names=ch0,ch1", "preprocessing.zscore=none", "provenance.program=torch",
            "provenance.version=" + torch.__version__, "validation.scheme=holdout", "validation.accuracy=0.97",
            "validation.chance_level=0.5", "validation.ci95=[0.93,0.99]"]
    args = [XT, "card", model, "-o", carded]
    for s in sets:
        args += ["--set", s]
    rc, out, err = run(*args)
    check(rc == 0 and os.path.exists(carded), f"xai-train card --set writes a carded copy (rc {rc}) {err.strip()}")
    a, b = onnx.load(model), onnx.load(carded)
    check(a.graph.SerializeToString() == b.graph.SerializeToString(), "the graph and weights are unchanged")
    meta = {p.key: p.value for p in b.metadata_props}
    card = json.loads(meta.get("libxai.card", "{}"))
    check(card.get("card_version") == 1 and card.get("classes") == ["early-ch0", "late-ch1"]
          and card["input"]["sampling_rate_hz"] == 64 and card["preprocessing"] == {"zscore": "none"},
          "the card in metadata_props holds what was set")
    rc, out, err = run(XT, "card", carded, "--show")
    shown = json.loads(out.split("\nwarnings:")[0]) if rc == 0 else {}
    check(shown == card, "--show prints the stored card")
    check("does not hold out whole groups" in out, "--show lists the warning about an ungrouped holdout")
    rc, out, err = run(XT, "card", carded, "--set", "validation.accuracy=1.5")
    check(rc == 2 and "validation.accuracy" in err, f"a value out of range exits 2 naming the field (rc {rc})")
    rc, out, err = run(XT, "card", carded, "--set", "classes=a,b,c")
    check(rc == 1 and "3 classes but the model has 2 outputs" in err, f"classes must fit the model (rc {rc})")
    rc, out, err = run(XT, "card", os.path.join(tmp, "missing.onnx"))
    check(rc == 1, f"a missing model exits 1 (rc {rc})")
    rc, out, err = run(XT, "card", "--help")
    check(rc == 0 and "EXAMPLE" in out, "card --help")
    return carded


def explain_checks(tmp, net, carded, x):
    xs = x[:16]
    np.save(os.path.join(tmp, "x.npy"), xs)
    xt = torch.from_numpy(xs).requires_grad_(True)
    logits = net(xt)
    target = logits.argmax(1)
    logits.gather(1, target[:, None]).sum().backward()
    grad = xt.grad.numpy()
    ref = {"gradient": grad, "gradient-x-input": grad * xs,
           "lrp": lrp_epsilon(net, torch.from_numpy(xs), target, 0.25).numpy()}
    for method, r in ref.items():
        out = os.path.join(tmp, f"r-{method}.npy")
        extra = ["--composite", "epsilon", "--epsilon", "0.25"] if method == "lrp" else []
        rc, _, err = run(XE, carded, os.path.join(tmp, "x.npy"), "-o", out, "--method", method, "-q", *extra)
        if rc != 0:
            check(False, f"xai-explain --method {method}: {err.strip()}")
            continue
        e = rel_l2(np.load(out), r)
        check(e < 1e-4, f"xai-explain {method} equals torch (rel L2 {e:.2e})")
    rel = np.load(os.path.join(tmp, "r-lrp.npy"))
    for c, (ch, a, b) in WINDOWS.items():
        m = np.abs(rel[target.numpy() == c]).sum(0)[0]
        share = m[ch, a:b].sum() / m.sum()
        # the window is 8 of 2 x 64 inputs (6.25 %): > 30 % is about five times chance
        check(share > 0.3, f"class {c}: {share:.0%} of |relevance| in its planted window (6% of the input)")


def main():
    x, y = make_data(np.random.default_rng(1))
    net, acc = train(x, y)
    check(acc > 0.95, f"torch training accuracy {acc:.3f} > 0.95")
    net.eval()
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "torch.onnx")
        torch.onnx.export(net, torch.zeros(1, C, T), model, opset_version=13, input_names=["x"],
                          output_names=["logits"])
        carded = card_checks(tmp, model)
        explain_checks(tmp, net, carded, x)
    print(f"{fails} failure(s)")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
