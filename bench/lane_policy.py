"""Where lanes and the compiled LSTM loop stop, before and after: the peers benchmark's models
(bench/peers/bench_torch.py's lstmkit variant) trained and run under two settings, taking turns in one
process with the order swapped each rep.

    .venv/bin/python bench/lane_policy.py [--models char_lstm,seq2seq_char] [--batches 32,128] [--reps 11]

- before: the compiled LSTM loop up to 64 units on one thread, lanes for states up to 128 units;
- after: the compiled loop up to 128 units on one thread (a lane's slice), lanes up to 256 units.
Both cut batches to fill the lanes for states up to 64 units. Prints samples/s (median over reps),
after/before and the per-rep range. Synthetic data: timing does not depend on the values.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent / "peers"))
import bench_torch  # noqa: E402
from lstmkit.nn import flush_denormals, recurrent, steploops  # noqa: E402

# (the compiled loop's most units on one thread, lanes' most units, units up to which a batch is cut to fill lanes)
SETTINGS = {"before": (64, 128, 64), "after": (128, 256, 64)}


def use(name: str) -> None:
    steploops.LSTM_ONE_THREAD_MAX_UNITS, recurrent.LANE_MAX_HIDDEN, recurrent.LANE_SPLIT_HIDDEN = SETTINGS[name]


def measure(model_name: str, batch: int, reps: int) -> None:
    torch.manual_seed(0)
    step = bench_torch.stepper(model_name, "lstmkit", batch, torch.Generator().manual_seed(0))

    for phase in ("training", "inference"):
        seconds = {name: [] for name in SETTINGS}
        for name in SETTINGS:  # warm-up
            use(name)
            step(phase)
        for rep in range(reps):
            for name in (list(SETTINGS) if rep % 2 else list(SETTINGS)[::-1]):
                use(name)
                step(phase)
                started = time.perf_counter()
                for _ in range(3):
                    step(phase)
                seconds[name].append((time.perf_counter() - started) / 3)
        before, after = (statistics.median(seconds[name]) for name in SETTINGS)
        ratios = sorted(b / a for b, a in zip(seconds["before"], seconds["after"]))
        print(f"| {bench_torch.specs.TITLES[model_name]} | {batch} | {phase} | {batch / before:,.0f} | "
              f"{batch / after:,.0f} | {before / after:.2f}× ({ratios[0]:.2f}–{ratios[-1]:.2f}) |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="char_lstm,seq2seq_char")
    parser.add_argument("--batches", default="32,128")
    parser.add_argument("--reps", type=int, default=11)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"{args.reps} reps, {torch.get_num_threads()} threads, torch {torch.__version__}\n")
    print("| model | batch | phase | before | after | after / before (per-rep range) |\n|---|---|---|---|---|---|")
    with flush_denormals():
        for model_name in args.models.split(","):
            for batch in map(int, args.batches.split(",")):
                measure(model_name, batch, args.reps)


if __name__ == "__main__":
    main()
