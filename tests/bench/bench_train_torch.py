#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""PyTorch counterpart of bench-train.c: training throughput (samples/s) at batch 64 with
Adam (lr 1e-3), no validation, same architectures as bench-train.c, torch.set_num_threads(N).

Prints one line "<model> <samples/s> <median samples/s>" per model: the best and the median of
the timed epochs (the best is the robust figure when other processes compete for the cores). Exits with status 3 when torch is missing
(bench-train then leaves the torch column empty). Debian: python3-torch (not a test dependency).

    /usr/bin/python3 tests/bench/bench_train_torch.py [--model eeg_cnn1d|bilstm|all]
                     [--threads 2] [--n 2048] [--epochs 3]
"""
import argparse
import sys
import time

try:
    import torch
    from torch import nn
except ImportError:
    print("bench_train_torch: torch is not installed", file=sys.stderr)
    sys.exit(3)


class EegCnn1d(nn.Module):
    """The reference EEG CNN (shared/reference/cnn/eeg_cnn1d); input [32, 256]."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(32, 8, 13, padding=6), nn.BatchNorm1d(8), nn.ReLU(),
            nn.Conv1d(8, 16, 7, stride=2, padding=3), nn.ReLU(),
            nn.AvgPool1d(8), nn.Flatten(),
            nn.Linear(256, 32), nn.ReLU(), nn.Linear(32, 2))

    def forward(self, x):
        return self.net(x)


class BiLstm(nn.Module):
    """lstm(64,bidirectional,last) dense(2): final hidden state of both directions; input [30, 16]."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(16, 64, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(128, 2)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.fc(torch.cat([h[0], h[1]], dim=1))


MODELS = {"eeg_cnn1d": (EegCnn1d, (32, 256)), "bilstm": (BiLstm, (30, 16))}


def run_epochs(model, opt, x, y, batch, epochs, gen):
    lossf = nn.CrossEntropyLoss()
    n = x.shape[0]
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for b0 in range(0, n, batch):
            idx = perm[b0:b0 + batch]
            opt.zero_grad()
            loss = lossf(model(x[idx]), y[idx])
            loss.backward()
            opt.step()


def bench(name, n, epochs):
    cls, shape = MODELS[name]
    torch.manual_seed(1)
    gen = torch.Generator().manual_seed(1)
    model = cls()
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand((n,) + shape, generator=gen) * 2 - 1
    y = torch.arange(n) % 2
    run_epochs(model, opt, x, y, 64, 1, gen)  # warm-up
    rates = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        run_epochs(model, opt, x, y, 64, 1, gen)
        rates.append(n / (time.perf_counter() - t0))
    rates.sort()
    return rates[-1], rates[len(rates) // 2]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="all", choices=["all"] + sorted(MODELS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n", type=int, default=2048)
    ap.add_argument("--epochs", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    for name in (sorted(MODELS) if a.model == "all" else [a.model]):
        best, med = bench(name, a.n, a.epochs)
        print(f"{name} {best:.1f} {med:.1f}", flush=True)


if __name__ == "__main__":
    main()
