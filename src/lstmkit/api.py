"""`lstmkit.load(run)`: a trained run directory of any task as an object to use from Python.
The command line's predict, sample and translate go through it."""

from __future__ import annotations

from .errors import RunError, SettingsError
from .training.run import RunDirectory

TASKS = ("sentiment", "textgen", "translate")


def load(run_dir, device: str = "cpu", *, ensemble=(), task: str | None = None):
    """The run's predictor, by its task:
    - sentiment -> `SentimentClassifier` (predict, explain, inspect); `ensemble`: more runs of the
      same classes whose probabilities are averaged with this one's;
    - textgen -> `TextGenerator` (generate, sample, inspect);
    - translate -> `Translator` (translate, inspect).
    RunError (one line naming the file) if `run_dir` is not a complete run of lstmkit, or not one
    of `task` when given."""
    expected, task = task, RunDirectory(run_dir).load_config()["task"]
    if expected is not None and task != expected:
        raise RunError(f"{run_dir} holds a {task!r} run, not a {expected} one")
    if ensemble and task != "sentiment":
        raise SettingsError("ensemble", f"averages sentiment runs; {run_dir} is a {task} run")
    if task == "sentiment":
        from .tasks.sentiment import SentimentClassifier

        return SentimentClassifier.load([run_dir, *ensemble], device)
    if task == "textgen":
        from .tasks.textgen import TextGenerator

        return TextGenerator.load(run_dir, device)
    if task == "translate":
        from .tasks.translate import load as load_translator

        return load_translator(run_dir, device)
    raise RunError(f"{run_dir}: config.json names the task {task!r}; this lstmkit knows {', '.join(TASKS)}")
