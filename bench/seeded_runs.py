"""What bench/'s experiments over seeds share: lstmkit's command line in a child process, each run
trained and scored once (a grid of runs resumes where it stopped), and their results as one JSON line
a run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from lstmkit.stats import describe


def lstmkit(*arguments) -> str:
    """`lstmkit ARGUMENTS` (one torch thread unless OMP_NUM_THREADS says otherwise) -> its stdout;
    a failure ends the experiment with the command's error."""
    done = subprocess.run([sys.executable, "-m", "lstmkit", *map(str, arguments)], capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")})
    if done.returncode != 0:
        sys.exit(f"{Path(sys.argv[0]).stem}: lstmkit {' '.join(map(str, arguments[:2]))} failed: {done.stderr.strip()}")
    return done.stdout


def train_and_score(run: Path, train: list, evaluate: list) -> dict | None:
    """Unless `run` holds evaluation.json: trains it (`lstmkit TRAIN --out RUN`; a run cut short after an
    epoch goes on with --resume, one cut short before starts again) and scores it (`lstmkit EVALUATE
    --json`), keeping the scores with the training seconds (its epochs', from history.jsonl) in
    evaluation.json -> those scores, or None for a run finished before."""
    scored = run / "evaluation.json"
    if scored.exists():
        return None
    resuming = (run / "trainer.pt").is_file()
    if not resuming:
        shutil.rmtree(run, ignore_errors=True)
    lstmkit(*train, "--out", run, *(["--resume"] if resuming else []))
    epochs = [json.loads(line) for line in (run / "history.jsonl").read_text(encoding="utf-8").splitlines()]
    evaluation = {**json.loads(lstmkit(*evaluate, "--json")), "train_seconds": round(sum(e["seconds"] for e in epochs))}
    scored.write_text(json.dumps(evaluation), encoding="utf-8")
    return evaluation


def record(results: Path, line: dict) -> None:
    """Appends one run's line to the results file, and prints it."""
    with open(results, "a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")
    print(json.dumps(line), flush=True)


def grouped(results: Path, keys: tuple[str, ...], value: str, scale: float = 1.0) -> dict[tuple, dict[int, float]]:
    """The results file's lines as {(line[key] for key in keys): {seed: line[value] · scale}}."""
    found = defaultdict(dict)
    for text in results.read_text(encoding="utf-8").splitlines():
        line = json.loads(text)
        found[tuple(line[key] for key in keys)][line["seed"]] = scale * line[value]
    return found


def plot_against_size(found: dict[tuple, dict[int, float]], labels: dict[str, str], out: Path, *, xlabel: str,
                      ylabel: str, title: str) -> None:
    """One line a recipe (found's keys are (recipe, size); labels: recipe -> its legend) of the mean
    ± 95% interval over seeds against size, on a log axis, where a point has ≥ 2 seeds."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    sizes = sorted({size for _, size in found})
    figure, axes = pyplot.subplots(figsize=(7, 4.5))
    for recipe, label in labels.items():
        points = [(size, describe(found[recipe, size].values())) for size in sizes
                  if len(found.get((recipe, size), {})) >= 2]
        axes.errorbar([size for size, _ in points], [s.mean for _, s in points],
                      yerr=[s.half_width for _, s in points], marker="o", capsize=3, label=label)
    axes.set_xscale("log")
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(title, fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(out, dpi=120)
