"""lstmkit's and plain PyTorch's version of a peers model in ONE process, taking turns step by step
(the order swapped each rep): what is left of a gap once the noise between processes is gone.

    .venv/bin/python bench/peers/in_process.py --model char_lstm --batch 32 [--phase training|inference] [--reps 11]
        [--against torch|one-hot]

Both run with denormals flushed (the peers table leaves PyTorch's default). Prints samples/s (median
over the reps) and lstmkit / PyTorch. `--against one-hot` puts lstmkit's char model fed one-hot
vectors (its path before it read one-hot ids) in PyTorch's place.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_torch  # noqa: E402
import specs  # noqa: E402
from lstmkit.nn import flush_denormals  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=specs.MODELS, required=True)
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--phase", choices=("training", "inference"), default="training")
    parser.add_argument("--reps", type=int, default=11)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--against", choices=("torch", "one-hot"), default="torch")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    generator, built = torch.Generator().manual_seed(0), {}
    for impl in ("torch", "lstmkit"):
        torch.manual_seed(0)
        model_of = impl if args.against == "torch" else "lstmkit"  # "torch": the baseline, fed torch's inputs
        built[impl] = bench_torch.stepper(args.model, model_of, args.batch, generator, inputs_as=impl)

    def step(impl: str) -> None:
        built[impl](args.phase)

    seconds = {impl: [] for impl in built}
    with flush_denormals():
        for impl in built:  # warm-up
            step(impl)
            step(impl)
        for rep in range(args.reps):
            for impl in (list(built) if rep % 2 else list(built)[::-1]):
                step(impl)
                started = time.perf_counter()
                for _ in range(3):
                    step(impl)
                seconds[impl].append((time.perf_counter() - started) / 3)
    plain, ours = statistics.median(seconds["torch"]), statistics.median(seconds["lstmkit"])
    print(f"| {specs.TITLES[args.model]} | {args.batch} | {args.phase} | {args.batch / plain:,.0f} | "
          f"{args.batch / ours:,.0f} | {plain / ours:.2f}× |")


if __name__ == "__main__":
    main()
