"""One process on both cores vs `--processes 2` (one core each), through the CLI, in one run.

    .venv/bin/python bench/distributed.py [--reps 3] [--imdb ../shared/data/imdb/aclImdb.tar.gz]

Each workload is trained the two ways, alternating (1-2, 2-1, 1-2, ...), with the same command
and seed; the two ways give the same weights (tests/training/test_distributed.py), so only the
time differs. Prints, per workload and way, the median training seconds per epoch (from the run's
history.jsonl, validation not included) and the median wall time of the whole command (reading
the data, building the vocabulary, validating, saving), and the ratio 2 processes / 1 process.
Run it with nothing else busy on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IMDB = Path(__file__).resolve().parents[2] / "shared" / "data" / "imdb" / "aclImdb.tar.gz"


def workloads(imdb: str) -> dict[str, list[str]]:
    sentiment = ["sentiment", "train", "--data", imdb, "--seed", "0", "--quiet"]
    return {
        "sentiment lecture (LSTM(32), 2 epochs)": sentiment + ["--epochs", "2"],
        "sentiment larger (Bi-LSTM(64), 128-d, maxlen 1000, 1 epoch)":
            sentiment + ["--epochs", "1", "--bidirectional", "--units", "64", "--embedding-dim", "128",
                         "--maxlen", "1000", "--batch-size", "64", "--optimizer", "adam"],
        "textgen fast (LSTM(256) on Nietzsche, 3 epochs)": ["textgen", "train", "--preset", "fast", "--epochs", "3",
                                                          "--seed", "0", "--quiet"],
    }


def train_once(argv: list[str], processes: int, threads: int) -> tuple[list[float], float]:
    """-> (training seconds of each epoch, wall seconds of the whole command)."""
    with tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "OMP_NUM_THREADS": str(threads // processes)}
        command = [sys.executable, "-m", "lstmkit", *argv, "--out", out]
        if processes > 1:
            command += ["--processes", str(processes)]
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - started
        history = [json.loads(line) for line in (Path(out) / "history.jsonl").read_text().splitlines()]
    return [row["seconds"] for row in history], wall


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--imdb", default=str(IMDB))
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="cores shared out (default 2)")
    args = parser.parse_args()
    ways = {"1 process": 1, f"{args.threads} processes": args.threads}
    print("| workload | way | median s/epoch (training) | median wall s | epochs measured |\n|---|---|---|---|---|")
    for name, argv in workloads(args.imdb).items():
        epochs = {way: [] for way in ways}
        walls = {way: [] for way in ways}
        for rep in range(args.reps):
            order = list(ways) if rep % 2 == 0 else list(reversed(ways))
            for way in order:
                seconds, wall = train_once(argv, ways[way], args.threads)
                epochs[way] += seconds
                walls[way].append(wall)
        medians = {way: (statistics.median(epochs[way]), statistics.median(walls[way])) for way in ways}
        for way in ways:
            print(f"| {name} | {way} | {medians[way][0]:.2f} | {medians[way][1]:.1f} | {len(epochs[way])} |")
        one, many = medians["1 process"], medians[f"{args.threads} processes"]
        print(f"| {name} | ratio | {many[0] / one[0]:.2f}x | {many[1] / one[1]:.2f}x | |", flush=True)


if __name__ == "__main__":
    main()
