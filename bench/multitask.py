"""Does sharing an encoder across target languages help, at an equal number of updates of the language
measured? The lecture's multi-task claim, with seeds and a paired comparison.

    OMP_NUM_THREADS=1 .venv/bin/python bench/multitask.py train [--seeds 0 1 2] [--sizes 5000 20000] [--epochs 40]
        [--scaled-attention --out runs/multitask-scaled]
    .venv/bin/python bench/multitask.py report [--plot docs/multitask.png]

Low resource: the main language (--main, default Dutch: Anki nld-eng) cut to `--sizes` training pairs,
trained
  alone    on its pairs only;
  shared   with `--partner-pairs` pairs each of the --partners (default German, French and Spanish:
           Anki deu/fra/spa-eng): one English encoder, a decoder per language (`--also`).
Every run trains `--epochs` epochs without early stopping, the learning rate x 0.95 an epoch (the
best preset's 0.8 left a 5,000-pair model under 1 BLEU after 12 epochs, still learning: a floor
where no recipe can be told from another). An epoch holds each language's batches once,
so the two runs of one size and seed make the same number of main-language updates; the shared one
makes the partners' updates besides (and takes longer). The best epoch by the main language's
validation BLEU is kept.

All runs are scored on one test set of the main language: 2,000 pairs held out by English sentence
before anything else, whose English sentences appear in no training file (the partners' pairs with
those sentences are dropped too). Scores are greedy BLEU (sacrebleu). The model is the best recipe made small enough for
this CPU: word level, 64-d embeddings, Bi-LSTM encoder (2 × 64), LSTM(128) decoder with attention,
4,000 tokens a vocabulary. `train` resumes (runs with evaluation.json are skipped); every run appends
a line to OUT/results.jsonl. `report` prints each recipe's mean ± 95% interval over seeds
(lstmkit.stats) and shared − alone paired by seed.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from collections import defaultdict
from pathlib import Path

from lstmkit.stats import compare, describe
from lstmkit.tasks.translate.data import split_key
from seeded_runs import grouped, plot_against_size, record, train_and_score

ROOT = Path(__file__).resolve().parents[1]
ANKI = ROOT.parent / "shared" / "data" / "anki"
OUT = ROOT / "runs" / "multitask"
TEST_PAIRS = 2_000
# the best preset as it was when this bench was designed: word level, no label smoothing, unscaled attention
RECIPE = ["--preset", "best", "--level", "word", "--label-smoothing", "0", "--no-scaled-attention",
          "--hidden", "128", "--embedding-dim", "64", "--source-vocab", "4000",
          "--target-vocab", "4000", "--lr-decay", "0.95", "--test-pairs", "200", "--validation-pairs", "500",
          "--bleu-sentences", "500", "--quiet"]


def read_lines(path: Path) -> list[str]:
    """The file's pair lines (English<TAB>other<TAB>attribution...), each ending in a newline."""
    return [line if line.endswith("\n") else line + "\n"
            for line in path.read_text(encoding="utf-8").splitlines() if "\t" in line]


def make_files(anki: Path, main: str, partners: list[str], sizes: list[int], partner_pairs: int, data: Path) -> None:
    """data/<main>-test.tsv (TEST_PAIRS pairs, whole English sentences), data/n<size>/<main>-eng.tsv
    (the first `size` other pairs in a seeded order, so that a smaller cut lies inside a larger one)
    and data/partners/<lang>-eng.tsv (`partner_pairs` pairs each, none with a test sentence)."""
    asked = {"main": main, "partners": partners, "sizes": sizes, "partner_pairs": partner_pairs}
    if (data / "done").exists():
        made = json.loads((data / "done").read_text(encoding="utf-8"))
        if made != asked:
            sys.exit(f"multitask: {data} was made for {made}, not {asked}; give another --out")
        return
    shutil.rmtree(data, ignore_errors=True)
    lines = read_lines(anki / f"{main}-eng.tsv")
    keys = sorted({split_key(line.split("\t")[0]) for line in lines})
    random.Random(0).shuffle(keys)
    by_key = defaultdict(list)
    for line in lines:
        by_key[split_key(line.split("\t")[0])].append(line)
    test, held = [], set()
    for key in keys:
        if len(test) >= TEST_PAIRS:
            break
        test += by_key[key]
        held.add(key)
    rest = [line for key in keys if key not in held for line in by_key[key]]
    if max(sizes) > len(rest):
        sys.exit(f"multitask: --sizes {max(sizes):,} is more than the {len(rest):,} {main} pairs left after the test set")
    (data / "partners").mkdir(parents=True)
    (data / f"{main}-test.tsv").write_text("".join(test), encoding="utf-8")
    for size in sizes:
        (data / f"n{size}").mkdir()
        (data / f"n{size}" / f"{main}-eng.tsv").write_text("".join(rest[:size]), encoding="utf-8")
    for language in partners:
        kept = [line for line in read_lines(anki / f"{language}-eng.tsv") if split_key(line.split("\t")[0]) not in held]
        random.Random(0).shuffle(kept)
        (data / "partners" / f"{language}-eng.tsv").write_text("".join(kept[:partner_pairs]), encoding="utf-8")
    (data / "done").write_text(json.dumps(asked), encoding="utf-8")


def train(args) -> None:
    data, main, out, epochs = args.out / "data", args.main, args.out, args.epochs
    make_files(args.anki, main, args.partners, args.sizes, args.partner_pairs, data)
    partners = [data / "partners" / f"{language}-eng.tsv" for language in args.partners]
    sizes, seeds = args.only_sizes or args.sizes, args.seeds
    scaled = ["--scaled-attention"] if args.scaled_attention else []
    for size in sizes:
        for seed in seeds:
            for recipe, also in (("alone", []), ("shared", ["--also", *partners])):
                run = out / f"{recipe}-n{size}-s{seed}"
                evaluation = train_and_score(
                    run, ["translate", "train", "--pairs", data / f"n{size}" / f"{main}-eng.tsv", *also, "--seed", seed,
                          "--epochs", epochs, "--patience", epochs, *RECIPE, *scaled],
                    ["translate", "evaluate", run, "--pairs", data / f"{main}-test.tsv", "--language", main])
                if evaluation:
                    history = (run / "history.jsonl").read_text(encoding="utf-8").splitlines()
                    record(out / "results.jsonl", {"recipe": recipe, "size": size, "seed": seed,
                                                   "test_bleu": evaluation["bleu"], "test_chrf": evaluation["chrf"],
                                                   "best_epoch": json.loads(history[-1])["best_epoch"],
                                                   "train_seconds": evaluation["train_seconds"]})


def scores(path: Path) -> dict[tuple[str, int], dict[int, float]]:
    """{(recipe, size): {seed: test BLEU}}."""
    return grouped(path, ("recipe", "size"), "test_bleu")


def _summary(scores: dict[int, float]) -> str:
    """Mean ± 95% interval over the seeds; a single seed's score as it is (runs still to come)."""
    if len(scores) > 1:
        return str(describe(scores.values()))
    return f"{next(iter(scores.values())):.2f} (one seed)" if scores else "—"


def _difference(shared: dict[int, float], alone: dict[int, float]) -> str:
    seeds = sorted(set(shared) & set(alone))
    if len(seeds) > 1:
        return str(compare(shared, alone))
    return f"{shared[seeds[0]] - alone[seeds[0]]:+.2f} (one seed: no interval)" if seeds else "—"


def report(found: dict, made: dict, plot: Path | None) -> list[str]:
    sizes = sorted({size for _, size in found})
    lines = [f"| {made['main']} training pairs | alone | shared (+ {', '.join(made['partners'])}) | shared − alone |",
             "|---|---|---|---|"]
    for size in sizes:
        alone, shared = found.get(("alone", size), {}), found.get(("shared", size), {})
        cells = [f"{size:,}", _summary(alone), _summary(shared), _difference(shared, alone)]
        lines.append("| " + " | ".join(cells) + " |")
    if plot:
        plot_against_size(found, {"alone": "alone", "shared": f"shared with {', '.join(made['partners'])}"}, plot,
                          xlabel=f"{made['main']}-eng training pairs",
                          ylabel=f"test BLEU, {TEST_PAIRS:,} held-out pairs", title="Sharing the encoder: mean ± 95% CI over seeds")
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("train")
    run.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    run.add_argument("--sizes", type=int, nargs="+", default=[5_000, 20_000], help="the cuts of the main language")
    run.add_argument("--only-sizes", type=int, nargs="+", help="train these of the cuts (another process the rest)")
    run.add_argument("--main", default="nld")
    run.add_argument("--partners", nargs="+", default=["deu", "fra", "spa"])
    run.add_argument("--epochs", type=int, default=40)
    run.add_argument("--partner-pairs", type=int, default=20_000)
    run.add_argument("--scaled-attention", action="store_true",
                     help="the attention scores scaled (unscaled, some seeds' attention collapses onto the last "
                          "source token); give another --out")
    run.add_argument("--anki", type=Path, default=ANKI)
    run.add_argument("--out", type=Path, default=OUT)
    shown = commands.add_parser("report")
    shown.add_argument("--out", type=Path, default=OUT)
    shown.add_argument("--plot", type=Path)
    args = parser.parse_args(argv)
    if args.command == "train":
        train(args)
    else:
        made = json.loads((args.out / "data" / "done").read_text(encoding="utf-8"))
        print("\n".join(report(scores(args.out / "results.jsonl"), made, args.plot)))


if __name__ == "__main__":
    main()
