"""`sentiment train --preset small` against `--preset lecture` on a few thousand short labelled texts
that are not IMDB (SST-2's 6,920 training sentences, bench/data/sst2), scored on SST-2's 1,821 test
sentences, seeds paired.

    OMP_NUM_THREADS=1 .venv/bin/python bench/small_preset.py [--seeds 0 1 2] [--out runs/small-preset]

Resumable: a finished run (with evaluation.json) is not trained again. Prints each preset's test
accuracy, mean ± 95% interval over seeds (lstmkit.stats), its training time, and small − lecture
paired by seed.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from lstmkit.stats import compare, describe
from seeded_runs import train_and_score

ROOT = Path(__file__).resolve().parents[1]
SST2 = ROOT / "bench" / "data" / "sst2"
PRESETS = ("lecture", "small")


def run(preset: str, seed: int, out: Path) -> dict:
    """Trains and scores one run (or reads the finished one) -> its evaluation with "train_seconds"."""
    folder = out / f"{preset}-s{seed}"
    train_and_score(folder, ["sentiment", "train", "--data", SST2 / "train.csv", "--seed", seed, "--preset", preset,
                             "--quiet"], ["sentiment", "evaluate", folder, "--data", SST2 / "test.csv"])
    return json.loads((folder / "evaluation.json").read_text(encoding="utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "small-preset")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    found = {preset: {seed: run(preset, seed, args.out) for seed in args.seeds} for preset in PRESETS}
    accuracy = {preset: {seed: 100 * r["accuracy"] for seed, r in runs.items()} for preset, runs in found.items()}
    print("| preset | SST-2 test accuracy (%), mean ± 95% CI (sd) | training time per run (s) |")
    print("|---|---|---|")
    for preset in PRESETS:
        seconds = sorted(r["train_seconds"] for r in found[preset].values())
        print(f"| {preset} | {describe(accuracy[preset].values())} | {seconds[0]}–{seconds[-1]} |")
    print(f"\nsmall − lecture, paired by seed: {compare(accuracy['small'], accuracy['lecture'])}")


if __name__ == "__main__":
    main()
