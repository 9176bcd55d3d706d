"""How high can checkpoint selection take the lecture's IMDB recipe? An analysis, not a feature.

    OMP_NUM_THREADS=1 .venv/bin/python bench/sentiment_ceiling.py --seeds 0 1 2 [--epochs 8] [--checks 4]

Trains `--preset lecture` exactly as `lstmkit sentiment train` does (same seed, same batches), and
`--checks` times per epoch measures validation AND test accuracy (test for this analysis only;
nothing here picks a checkpoint by it). Prints per seed the test accuracy of the checkpoint picked
by validation at epoch ends (what the tool does), by validation at every check, and the best test
accuracy any check reached (a ceiling no validation rule can beat). Rows: runs/ceiling/s<seed>.jsonl.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
from pathlib import Path

import torch

import lstmkit.tasks.sentiment as sentiment
import lstmkit.training.recipe as recipe  # where every task calls fit()
from lstmkit.tasks.sentiment.readers import read_labelled
from lstmkit.text.vocabulary import Vocabulary
from lstmkit.text.words import IMDB_SPECIALS


def run_seed(data: str, seed: int, epochs: int, checks: int, out: Path) -> list[dict]:
    splits = read_labelled(data)
    config = dataclasses.replace(sentiment.PRESETS["lecture"], seed=seed, epochs=epochs)
    vocabulary = Vocabulary.fit(splits["train"].texts, "imdb", specials=IMDB_SPECIALS,  # as train() builds it
                                max_size=config.num_words)
    test = sentiment.Prepared.labelled(splits["test"], vocabulary, splits["train"].classes, config.maxlen)
    test_batches = sentiment.batches_of(test, config, batch_size=512)
    rows: list[dict] = []

    def test_accuracy(model) -> float:
        logits, targets = sentiment.predict_logits(model, test_batches, torch.device("cpu"))
        return sentiment.loss_and_correct(logits, targets)[1] / len(targets)

    def checked_fit(model, optimizer, *, batches, validate, **options):
        """fit() with a check every 1/checks epoch (between optimizer steps) and at each epoch end."""
        current = {"epoch": 0}

        def record(epoch: float, end: bool, validation: dict | None = None):
            model.eval()
            with torch.no_grad():
                validation = validation or validate(model)
                rows.append({"epoch": round(epoch, 3), **validation, "test": test_accuracy(model), "end": end})
            model.train()

        def checked_batches(epoch):
            current["epoch"] = epoch
            items = batches(epoch)
            every = max(1, len(items) // checks)
            for step, batch in enumerate(items, 1):
                yield batch  # train_epoch takes its optimizer step before asking for the next batch
                if step % every == 0 and len(items) - step > every // 2:
                    record(epoch - 1 + step / len(items), end=False)

        def validate_at_end(model):  # fit() calls it in eval mode, without gradients
            result = validate(model)
            record(current["epoch"], end=True, validation=result)
            return result

        return real_fit(model, optimizer, batches=checked_batches, validate=validate_at_end, **options)

    real_fit = recipe.fit
    recipe.fit = checked_fit
    try:
        sentiment.train(config, data, out / f"run-s{seed}", progress=False, log=lambda *_: None)
    finally:
        recipe.fit = real_fit
    (out / f"s{seed}.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    return rows


def summary(rows: list[dict]) -> dict:
    ends = [row for row in rows if row["end"]]
    by_validation = lambda candidates: max(candidates, key=lambda row: row["val_accuracy"])["test"]  # noqa: E731
    return {"epoch ends, by validation": by_validation(ends), "every check, by validation": by_validation(rows),
            "best test at an epoch end": max(row["test"] for row in ends),
            "best test at any check": max(row["test"] for row in rows)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data/imdb/aclImdb.tar.gz")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--checks", type=int, default=4, help="checks per epoch")
    parser.add_argument("--out", default="runs/ceiling")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = {seed: summary(run_seed(args.data, seed, args.epochs, args.checks, out)) for seed in args.seeds}
    for name in next(iter(results.values())):
        values = [result[name] * 100 for result in results.values()]
        print(f"{name:28s} " + " ".join(f"{v:6.2f}" for v in values) + f"   mean {statistics.mean(values):.2f}")


if __name__ == "__main__":
    main()
