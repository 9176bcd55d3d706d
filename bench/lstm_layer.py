"""Throughput of lstmkit's LSTM fast path vs torch.nn.LSTM, same shapes, interleaved in one run.

    .venv/bin/python bench/lstm_layer.py [--reps 5] [--seconds 2] [--threads 2] [--device cpu|cuda]

Rows: the lecture's shapes — IMDB (batch 32 and 128, time 500, features 32, hidden 32) and the
char model (batch 128, time 60, features 57, hidden 128) — for a training step (forward, loss on
the last output, backward) and inference (no_grad forward). Training is timed twice: with
denormals flushed to zero (as lstmkit trains) and with PyTorch's default (denormals kept).
A last row times the whole lecture IMDB model (Embedding -> LSTM -> Dense, BCE, RMSprop) at batch
128, against the same model built from torch.nn and against 4 accumulated chunks of 32.
Within a rep the variants take turns in short slices; prints samples/s as median [min-max]
over the reps and the median of the per-rep ratios.
Synthetic data: timing does not depend on the values.
--device cuda puts the modules and tensors on the GPU, where both variants run PyTorch's fused cuDNN
kernel (lstmkit's LSTM calls torch.lstm as nn.LSTM does); each timed slice ends with a
torch.cuda.synchronize(), and the "denormals kept" rows are left out (flushing is a CPU setting).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import torch
from torch import nn

from lstmkit.nn import flush_denormals
from lstmkit.lecture_models import LECTURE_MODELS

LAYER_SHAPES = [  # name, batch, time, features, hidden
    ("imdb", 32, 500, 32, 32),
    ("imdb", 128, 500, 32, 32),
    ("char", 128, 60, 57, 128),
]


def no_sync() -> None:
    """On a CPU every step has finished when it returns."""


def interleaved_rates(variants: dict, batch: int, seconds: float, slices: int = 8,
                      sync=no_sync) -> dict[str, float]:
    """Samples/s of each variant, timed in `slices` short alternating turns (A B A B ...), so
    that the machine's drifting load falls on all variants alike. `sync` waits for the queued
    work (torch.cuda.synchronize on a GPU) before a clock is read."""
    steps = {}
    for name, step in variants.items():
        step()  # warm-up: oneDNN builds its primitives on the first call
        sync()
        start = time.perf_counter()
        step()
        sync()
        steps[name] = max(1, round(seconds / slices / (time.perf_counter() - start)))
    elapsed = dict.fromkeys(variants, 0.0)
    for _ in range(slices):
        for name, step in variants.items():
            start = time.perf_counter()
            for _ in range(steps[name]):
                step()
            sync()
            elapsed[name] += time.perf_counter() - start
    return {name: slices * steps[name] * batch / elapsed[name] for name in variants}


def layer_variants(batch, steps, features, hidden, device="cpu"):
    """{variant: (train_step, infer_step)} for torch.nn.LSTM and lstmkit.nn.LSTM, same weights."""
    from lstmkit.nn import LSTM

    ours = LSTM(features, hidden).to(device)
    theirs = ours.to_torch()  # same weights (and device), PyTorch's second bias zero
    x = torch.randn(batch, steps, features).to(device).requires_grad_()
    projection = torch.randn(hidden).to(device)  # loss = a random projection of the last output

    def steps_for(last_output):
        def train():
            (last_output(x) @ projection).sum().backward()

        def infer():
            with torch.no_grad():
                last_output(x)

        return train, infer

    return {"torch.nn.LSTM": steps_for(lambda inputs: theirs(inputs)[1][0][0]),
            "lstmkit LSTM": steps_for(ours)}


class TorchImdb(nn.Module):
    """The lecture's IMDB model from torch.nn parts (as the peers' benchmark builds it)."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(10_000, 32)
        self.lstm = nn.LSTM(32, 32, batch_first=True)
        self.dense = nn.Linear(32, 1)

    def forward(self, ids):
        return torch.sigmoid(self.dense(self.lstm(self.embedding(ids))[1][0][0]))


def model_variants(batch, device="cpu"):
    """{variant: train_step} for the whole IMDB model, RMSprop as Keras sets it."""
    ids = torch.randint(0, 10_000, (batch, 500)).to(device)
    labels = torch.randint(0, 2, (batch, 1)).float().to(device)

    def train_step(model, chunks=1):
        # lr 0: the full RMSprop update is computed, but the weights stay put, so every variant
        # and rep times the same model (training would drift them apart, and their costs with them)
        optimizer = torch.optim.RMSprop(model.parameters(), lr=0.0, alpha=0.9, eps=1e-7)

        def step():
            optimizer.zero_grad(set_to_none=True)
            for part_ids, part_labels in zip(ids.chunk(chunks), labels.chunk(chunks)):
                loss = nn.functional.binary_cross_entropy(model(part_ids), part_labels) / chunks
                loss.backward()
            optimizer.step()

        return step

    ours = LECTURE_MODELS["imdb-lstm"].build()
    theirs = TorchImdb()
    with torch.no_grad():  # same starting weights: the same model, two implementations
        theirs.embedding.weight.copy_(ours[0].weight)
        theirs.lstm = ours[1].to_torch()
        theirs.dense.weight.copy_(ours[2].weight)
        theirs.dense.bias.copy_(ours[2].bias)
    ours.to(device)
    theirs.to(device)
    return {"torch.nn model": train_step(theirs),
            "lstmkit model": train_step(ours),
            "lstmkit model, 4 chunks": train_step(ours, chunks=4)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0, help="timed seconds per variant and rep")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", help="also write the raw measurements to this file")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                        help="where the modules and tensors live (default cpu)")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch sees no CUDA device here")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    sync = torch.cuda.synchronize if args.device == "cuda" else no_sync

    rows = []  # (label, batch, {variant: step}, flush)
    for name, batch, steps, features, hidden in LAYER_SHAPES:
        shape = f"{name} b{batch} t{steps} x{features} h{hidden}"
        variants = layer_variants(batch, steps, features, hidden, args.device)
        rows.append((f"{shape} train", batch, {v: s[0] for v, s in variants.items()}, True))
        if args.device == "cpu":
            rows.append((f"{shape} train, denormals kept", batch, {v: s[0] for v, s in variants.items()}, False))
        rows.append((f"{shape} inference", batch, {v: s[1] for v, s in variants.items()}, False))
    rows.append(("imdb model b128 train", 128, model_variants(128, args.device), True))

    results = {label: {variant: [] for variant in variants} for label, _, variants, _ in rows}
    for rep in range(args.reps):
        for label, batch, variants, flush in rows:
            names = list(variants)
            names = names[rep % len(names):] + names[: rep % len(names)]  # rotate who goes first
            with flush_denormals(flush):
                rates = interleaved_rates({name: variants[name] for name in names}, batch, args.seconds, sync=sync)
            for name, rate in rates.items():
                results[label][name].append(rate)
        print(f"rep {rep + 1}/{args.reps} done", flush=True)

    where = f"{args.threads} threads, {platform.processor() or platform.machine()}"
    if args.device == "cuda":
        where = (f"{torch.cuda.get_device_name()}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}, "
                 f"host: {where}")
    print(f"\nsamples/s, median [min-max] of {args.reps} interleaved reps; torch {torch.__version__}, {where}")
    print("| row | variant | samples/s | ratio to first |")
    print("|---|---|---|---|")
    for label, values in results.items():
        baseline = None
        for variant, rates in values.items():
            text = f"{statistics.median(rates):,.0f} [{min(rates):,.0f}-{max(rates):,.0f}]"
            if baseline is None:
                baseline, ratio = rates, ""
            else:
                ratio = f"{statistics.median(r / b for r, b in zip(rates, baseline)):.2f}x"
            print(f"| {label} | {variant} | {text} | {ratio} |")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
