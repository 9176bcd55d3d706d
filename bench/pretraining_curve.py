"""A learning curve on IMDB: how much pretrained word vectors help as the labelled reviews grow.

    OMP_NUM_THREADS=1 .venv/bin/python bench/pretraining_curve.py train [--seeds 0 1 2] [--sizes 250 ... 25000]
    .venv/bin/python bench/pretraining_curve.py report [--plot docs/pretraining_curve.png]

    # the two ends on SST-2 (bench/data/sst2), with the vectors trained on IMDB's reviews
    OMP_NUM_THREADS=1 .venv/bin/python bench/pretraining_curve.py train --data bench/data/sst2/train.csv \
        --test-data bench/data/sst2/test.csv --vectors runs/curve/w2v32.txt --out runs/curve-sst2 --sizes 250 6920

For each number n of labelled training reviews (`--train-texts n`, 20% of them validating) and each
seed, three embeddings under the lecture's model (Embedding(10000, 32) -> LSTM(32) -> Dense(1),
RMSprop, 10 epochs, batch 32 so that the small sets still take steps), scored on the same 25,000
test reviews:
  scratch    the embedding learned from the labelled reviews alone;
  frozen     word2vec vectors (32-d, trained once on the 50,000 unlabelled and the 25,000 training
             reviews, labels unused), kept frozen;
  finetuned  the same vectors, trained further with the rest.
`train` resumes: finished runs (those with evaluation.json) are skipped; every run appends a line to
runs/curve/results.jsonl. `report` prints each point's mean ± 95% interval over seeds (lstmkit.stats),
the paired difference of frozen and finetuned against scratch, the largest n where frozen is ahead by
more than the noise, and draws the curve.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from lstmkit.stats import compare, describe
from seeded_runs import grouped, lstmkit, plot_against_size, record, train_and_score

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "imdb" / "aclImdb.tar.gz"
OUT = ROOT / "runs" / "curve"
SIZES = (250, 500, 1_000, 2_500, 5_000, 25_000)
EMBEDDINGS = {
    "scratch": [],
    "frozen": ["--pretrained", "{vectors}", "--freeze-embedding"],
    "finetuned": ["--pretrained", "{vectors}"],
}
RECIPE = ["--preset", "lecture", "--batch-size", "32", "--quiet"]


def train(seeds: list[int], sizes: list[int], data: Path, test_data: Path, vectors: Path | None, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    vectors = vectors or out / "w2v32.txt"
    if not vectors.exists():  # once, for every run: the unlabelled and training reviews, no label read
        lstmkit("sentiment", "vectors", "--data", data, "--dim", 32, "--seed", 0, "--out", f"{vectors}.part")
        os.replace(f"{vectors}.part", vectors)
    for size in sizes:
        for seed in seeds:
            for embedding, options in EMBEDDINGS.items():
                run = out / f"{embedding}-n{size}-s{seed}"
                evaluation = train_and_score(
                    run, ["sentiment", "train", "--data", data, "--seed", seed, "--train-texts", size, *RECIPE,
                          *[option.replace("{vectors}", str(vectors)) for option in options]],
                    ["sentiment", "evaluate", run, "--data", test_data])
                if evaluation:
                    record(out / "results.jsonl", {"embedding": embedding, "size": size, "seed": seed,
                                                   "test_accuracy": evaluation["accuracy"],
                                                   "train_seconds": evaluation["train_seconds"]})


def accuracies(path: Path) -> dict[tuple[str, int], dict[int, float]]:
    """{(embedding, n): {seed: test accuracy in %}}."""
    return grouped(path, ("embedding", "size"), "test_accuracy", 100)


def report(found: dict, plot: Path | None, scored: str = "IMDB test accuracy (%), 25,000 reviews") -> list[str]:
    sizes = sorted({size for _, size in found})
    lines = ["| labelled reviews n | " + " | ".join(EMBEDDINGS) + " | frozen − scratch | finetuned − scratch |",
             "|---|" + "---|" * (len(EMBEDDINGS) + 2)]
    helping = []
    for size in sizes:
        cells = [f"{size:,}"]
        for embedding in EMBEDDINGS:
            seeds = found.get((embedding, size), {})
            cells.append(str(describe(seeds.values())) if len(seeds) >= 2 else "")
        for embedding in ("frozen", "finetuned"):
            pair = found.get((embedding, size), {}), found.get(("scratch", size), {})
            if len(set(pair[0]) & set(pair[1])) >= 2:
                comparison = compare(*pair)
                cells.append(str(comparison))
                if embedding == "frozen" and comparison.larger_than_noise and comparison.difference.mean > 0:
                    helping.append(size)
            else:
                cells.append("")
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"frozen word2vec ahead of scratch by more than the noise at n = {', '.join(f'{n:,}' for n in helping)}"
                 if helping else "frozen word2vec is nowhere ahead of scratch by more than the noise")
    if plot:
        plot_against_size(found, {embedding: embedding for embedding in EMBEDDINGS}, plot,
                          xlabel="labelled training texts n (20% of them validate)", ylabel=scored,
                          title="Pretrained word vectors against n: mean ± 95% CI over seeds")
        lines.append(str(plot))
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    steps = parser.add_subparsers(dest="step", required=True)
    training = steps.add_parser("train")
    training.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    training.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    training.add_argument("--data", type=Path, default=DATA, help="the labelled training texts")
    training.add_argument("--test-data", type=Path, help="the texts scored (default: --data's test set)")
    training.add_argument("--vectors", type=Path, help="word vectors to use (default: trained on --data once)")
    training.add_argument("--out", type=Path, default=OUT)
    reporting = steps.add_parser("report")
    reporting.add_argument("--results", type=Path, default=OUT / "results.jsonl")
    reporting.add_argument("--plot", type=Path)
    reporting.add_argument("--scored", default="IMDB test accuracy (%), 25,000 reviews", help="the plot's y label")
    args = parser.parse_args(argv)
    if args.step == "train":
        train(args.seeds, args.sizes, args.data, args.test_data or args.data, args.vectors, args.out)
    else:
        print("\n".join(report(accuracies(args.results), args.plot, args.scored)))


if __name__ == "__main__":
    main()
