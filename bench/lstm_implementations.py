"""The LSTM's two fast paths side by side on the lecture's models: PyTorch's fused kernel ("fused",
oneDNN on a CPU) and lstmkit's hand-written time loop ("steps": lstm_steps.py), interleaved in one run.

    .venv/bin/python bench/lstm_implementations.py [--reps 3] [--seconds 2] [--threads 2]

Rows: the IMDB LSTM(32), stacked 3×LSTM(32) and Bi-LSTM(32) (Embedding(10000, 32), time 500,
dropout 0.2 on the stacked and bidirectional ones, as the peers' benchmark) at batch 32 and 128,
and the char LSTM(128) (one-hot 57, time 60) at batch 128: a training step (forward, BCE or
cross-entropy, backward, RMSprop) and inference (forward under inference_mode). Denormals flushed,
as lstmkit trains. Prints samples/s as median [min-max] over the reps and the median of the
per-rep ratios steps / fused; with --json, one JSON line per row as well.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics

import torch
from torch import nn

from lstm_layer import interleaved_rates  # bench/ is the script's folder
from lstmkit.nn import LSTM, Bidirectional, Dense, Embedding, flush_denormals

IMPLEMENTATIONS = ("fused", "steps")
ROWS = [("imdb_lstm", 32), ("imdb_lstm", 128), ("imdb_stacked", 32), ("imdb_stacked", 128),
        ("imdb_bilstm", 32), ("imdb_bilstm", 128), ("char_lstm", 128)]


def model(kind: str, implementation: str) -> nn.Module:
    """The lecture's model of `kind` with every LSTM on `implementation` (same seed: same weights)."""
    torch.manual_seed(0)
    if kind == "char_lstm":
        return nn.Sequential(LSTM(57, 128, implementation=implementation), Dense(128, 57))
    dropout = 0.0 if kind == "imdb_lstm" else 0.2
    if kind == "imdb_stacked":
        layers = [LSTM(32, 32, return_sequences=index < 2, dropout=dropout, implementation=implementation)
                  for index in range(3)]
    elif kind == "imdb_bilstm":
        layers = [Bidirectional(LSTM(32, 32, dropout=dropout, implementation=implementation))]
    else:
        layers = [LSTM(32, 32, implementation=implementation)]
    return nn.Sequential(Embedding(10_000, 32), *layers, Dense(64 if kind == "imdb_bilstm" else 32, 1))


def steps_of(kind: str, batch: int, implementation: str):
    """(train_step, infer_step) on synthetic data of the row's shapes."""
    net = model(kind, implementation)
    optimizer = torch.optim.RMSprop(net.parameters(), lr=0.01 if kind == "char_lstm" else 1e-3, alpha=0.9, eps=1e-7)
    if kind == "char_lstm":
        x = nn.functional.one_hot(torch.randint(0, 57, (batch, 60)), 57).float()
        y = torch.randint(0, 57, (batch,))
        loss_of = lambda output: nn.functional.cross_entropy(output, y)  # noqa: E731
    else:
        x = torch.randint(1, 10_000, (batch, 500))
        y = torch.randint(0, 2, (batch,)).float()
        loss_of = lambda output: nn.functional.binary_cross_entropy_with_logits(output[:, 0], y)  # noqa: E731

    def train():
        net.train()
        optimizer.zero_grad()
        loss_of(net(x)).backward()
        optimizer.step()

    def infer():
        net.eval()
        with torch.inference_mode():
            net(x)

    return train, infer


def summary(rates: list[dict], names) -> dict:
    medians = {name: statistics.median(rep[name] for rep in rates) for name in names}
    spans = {name: (min(rep[name] for rep in rates), max(rep[name] for rep in rates)) for name in names}
    ratio = statistics.median(rep["steps"] / rep["fused"] for rep in rates)
    return {"median": medians, "range": spans, "ratio": ratio}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0, help="per variant and rep")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rows", nargs="*", help="e.g. imdb_bilstm:128")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = [(kind, int(batch)) for kind, batch in (row.split(":") for row in args.rows)] if args.rows else ROWS
    print(f"# {platform.processor() or platform.machine()}, {args.threads} threads, torch {torch.__version__}, "
          f"load {os.getloadavg()[0]:.2f}")
    with flush_denormals():
        for kind, batch in rows:
            variants = {name: steps_of(kind, batch, name) for name in IMPLEMENTATIONS}
            for phase, index in (("train", 0), ("infer", 1)):
                reps = [interleaved_rates({name: variant[index] for name, variant in variants.items()}, batch,
                                          args.seconds) for _ in range(args.reps)]
                result = summary(reps, IMPLEMENTATIONS)
                cells = "  ".join(f"{name} {result['median'][name]:,.0f} [{result['range'][name][0]:,.0f}-"
                                  f"{result['range'][name][1]:,.0f}]" for name in IMPLEMENTATIONS)
                print(f"{kind} b{batch} {phase}: {cells}  steps/fused {result['ratio']:.2f}x", flush=True)
                if args.json:
                    print(json.dumps({"model": kind, "batch": batch, "phase": phase, **result}), flush=True)


if __name__ == "__main__":
    main()
