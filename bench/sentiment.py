"""The lecture's IMDB LSTM trained two ways in one run: the padded lecture loop vs length-aware batching.

    .venv/bin/python bench/sentiment.py [--data ../shared/data/imdb/aclImdb.tar.gz] [--epochs 10]

Same model, seed, vocabulary, optimizer and micro-batches; the only difference is the batches:
  padded  every review cut/left-padded to 500 words, the LSTM runs all 500 steps (the lecture)
  length  reviews of similar length batched together, right-padded only to the batch's longest,
          the LSTM runs each review's real words only (per-sample lengths)
The two trainings take turns epoch by epoch. After each epoch both are evaluated on the full
25,000-review test set (not counted in the training time). Prints per-epoch wall time, test
accuracy, and the training time each needed to first reach the target test accuracy.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
from pathlib import Path

import torch

from lstmkit.nn import flush_denormals
from lstmkit.tasks import sentiment
from lstmkit.tasks.sentiment.readers import read_labelled
from lstmkit.text.vocabulary import Vocabulary
from lstmkit.text.words import IMDB_SPECIALS
from lstmkit.training.loop import FitOptions, train_epoch
from lstmkit.training.optimizers import make_optimizer

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "imdb" / "aclImdb.tar.gz"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", type=float, default=0.88, help="test accuracy to reach")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    splits = read_labelled(args.data)
    lecture = dataclasses.replace(sentiment.PRESETS["lecture"], seed=args.seed, classes=["neg", "pos"])
    train_part, _ = sentiment.split_validation(splits["train"], lecture.val_split, lecture.seed)
    vocabulary = Vocabulary.fit(splits["train"].texts, "imdb", specials=IMDB_SPECIALS, max_size=lecture.num_words)
    train_data = sentiment.Prepared.labelled(train_part, vocabulary, lecture.classes, lecture.maxlen)
    device = torch.device("cpu")
    batch_loss = sentiment.batch_loss_on(device)

    contenders = {}
    for batching in ("padded", "length"):
        config = dataclasses.replace(lecture, batching=batching)
        torch.manual_seed(config.seed)
        model = sentiment.SentimentModel(config, vocabulary.size, 2)
        optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr, adam_eps=sentiment.ADAM_EPS)
        contenders[batching] = dict(config=config, model=model, optimizer=optimizer,
                                    generator=torch.Generator().manual_seed(config.seed), seconds=[], accuracy=[])
    options = FitOptions(epochs=1, micro_batch=lecture.micro_batch, progress=False)

    for epoch in range(1, args.epochs + 1):
        for name, item in contenders.items():
            batches = sentiment.batches_of(train_data, item["config"], item["generator"])
            with flush_denormals():
                row = train_epoch(item["model"], item["optimizer"], batches, batch_loss, options, epoch)
            test = sentiment.SentimentClassifier([(item["model"], vocabulary, item["config"])]).report(splits["test"])
            item["seconds"].append(row["seconds"])
            item["accuracy"].append(test["accuracy"])
            print(f"epoch {epoch:2d} {name:6s}: {row['seconds']:6.1f} s, train loss {row['loss']:.4f}, "
                  f"test accuracy {test['accuracy']:.4f}", flush=True)

    print(f"\ntorch {torch.__version__}, {args.threads} threads, seed {args.seed}, {args.epochs} epochs each")
    print("| batching | median s/epoch | best test acc (epoch) | training s to first reach "
          f"{args.target:.1%} test |")
    print("|---|---|---|---|")
    reach = {}
    for name, item in contenders.items():
        hit = next((i for i, acc in enumerate(item["accuracy"]) if acc >= args.target), None)
        reach[name] = sum(item["seconds"][: hit + 1]) if hit is not None else None
        best = max(range(len(item["accuracy"])), key=lambda i: item["accuracy"][i])
        when = f"{reach[name]:.1f} (epoch {hit + 1})" if hit is not None else "not reached"
        print(f"| {name} | {statistics.median(item['seconds']):.1f} | {item['accuracy'][best]:.4f} ({best + 1}) "
              f"| {when} |")
    ratio = statistics.median(p / q for p, q in zip(contenders["length"]["seconds"], contenders["padded"]["seconds"]))
    print(f"\nper-epoch time, length / padded (median of per-epoch ratios): {ratio:.2f}x")
    if reach["padded"] and reach["length"]:
        print(f"time to {args.target:.1%}, length / padded: {reach['length'] / reach['padded']:.2f}x")


if __name__ == "__main__":
    main()
