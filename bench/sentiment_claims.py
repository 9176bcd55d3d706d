"""The lecture's sentiment table with error bars: which of its steps are real improvements.

    SEEDS="0 1 2 3 4" bash bench/sentiment_table.sh lstm simplernn lstm-dropout stacked bilstm pretrained-shared
    .venv/bin/python bench/sentiment_claims.py [--results runs/table/results.jsonl] [--plot docs/sentiment_claims.png]

Reads the runs' test accuracies (one line per run, written by sentiment_table.sh), prints each row's
mean with its 95% interval over seeds (lstmkit.stats) and each of the lecture's steps as a paired
comparison with the row it changes, as Markdown for docs/RESULTS.md, and draws the rows.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from lstmkit.stats import compare, describe

ROWS = {  # row -> what it is, and the row whose one change it is (the lecture's order)
    "simplernn": ("SimpleRNN(32)", None),
    "lstm": ("LSTM(32), the lecture", "simplernn"),
    "lstm-dropout": ("LSTM + dropout 0.2", "lstm"),
    "stacked": ("stacked 3 × LSTM(32), dropout 0.2", "lstm-dropout"),
    "bilstm": ("Bi-LSTM(32), dropout 0.2", "lstm-dropout"),
    "pretrained-shared": ("Bi-LSTM + word2vec 32-d, frozen", "bilstm"),
    # past the lecture: adversarial training (share 0.02) on the lecture's LSTM and on the best recipe
    "lstm-adversarial": ("LSTM(32) + adversarial training", "lstm"),
    "best": ("best recipe (--preset best)", None),
    "best-adversarial": ("best recipe + adversarial training", "best"),
    "best-adversarial-plus": ("best recipe + adversarial training, weights averaged, 95% training, 60,000 words",
                              "best-adversarial"),
    "best-adversarial-unfreeze": ("the same, the embedding trainable from epoch 21 on", "best-adversarial-plus"),
    "best-adversarial-unfreeze-slow": ("the same, the unfrozen embedding at a tenth of the rate",
                                       "best-adversarial-unfreeze"),
    "best-adversarial-unfreeze-frequent": ("the same, only the 10,000 most frequent words' vectors unfrozen",
                                           "best-adversarial-unfreeze"),
    # the best recipe's layers pretrained as a language model (sentiment pretrain), then fine-tuned
    "best-lm": ("best recipe from the language model, ULMFiT's fine-tuning", "best"),
    "best-lm-init": ("best recipe from the language model", "best"),
}


def accuracies(path: Path) -> dict[str, dict[int, float]]:
    """{row: {seed: test accuracy in %}} of every run in the results file (the last line of a seed wins)."""
    found = defaultdict(dict)
    for line in path.read_text(encoding="utf-8").splitlines():
        run = json.loads(line)
        found[run["row"]][run["seed"]] = 100 * run["test_accuracy"]
    return found


def table(found: dict[str, dict[int, float]]) -> list[str]:
    lines = ["| row | seeds | test accuracy, mean ± 95% CI (sd) | against | paired difference | verdict |",
             "|---|---|---|---|---|---|"]
    for row, (name, against) in ROWS.items():
        if len(found.get(row, {})) < 2:
            continue
        spread = describe(found[row].values())
        cells = [name, ", ".join(map(str, sorted(found[row]))), f"{spread.mean:.2f} ± {spread.half_width:.2f} "
                 f"({spread.sd:.2f})"]
        if against and len(set(found[row]) & set(found.get(against, {}))) >= 2:
            comparison = compare(found[row], found[against])
            cells += [ROWS[against][0], f"{comparison.difference.mean:+.2f} ± {comparison.difference.half_width:.2f}",
                      "**larger than the noise**" if comparison.larger_than_noise else "within the noise"]
        else:
            cells += ["", "", ""]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def plot(found: dict[str, dict[int, float]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [row for row in ROWS if len(found.get(row, {})) >= 2]
    spreads = [describe(found[row].values()) for row in rows]
    figure, axes = plt.subplots(figsize=(8, 0.6 * len(rows) + 1.2))
    for y, row in enumerate(rows):
        axes.scatter(list(found[row].values()), [y] * len(found[row]), color="0.6", s=12, zorder=2)
    axes.errorbar([s.mean for s in spreads], range(len(rows)), xerr=[s.half_width for s in spreads], fmt="o",
                  color="C0", capsize=4, zorder=3)
    axes.set_yticks(range(len(rows)), [ROWS[row][0] for row in rows])
    axes.invert_yaxis()
    axes.set_xlabel("IMDB test accuracy (%), 25,000 reviews")
    axes.set_title("blue: mean ± 95% confidence interval over seeds; grey: one seed each", fontsize=10)
    axes.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    figure.savefig(out, dpi=120)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("runs/table/results.jsonl"))
    parser.add_argument("--plot", type=Path, help="draw the rows into this PNG")
    args = parser.parse_args(argv)
    found = accuracies(args.results)
    print("\n".join(table(found)))
    if args.plot:
        plot(found, args.plot)
        print(f"\n{args.plot}")


if __name__ == "__main__":
    main()
