"""`lstmkit.load(run)`: a trained run directory of any task as an object to use from Python.
The command line's predict, sample and translate go through it."""

from __future__ import annotations

from .catalogue import located
from .errors import RunError, SettingsError
from .tasks import registry, task_named
from .training.run import RunDirectory


def load(run_dir, device: str = "cpu", *, ensemble=(), task: str | None = None):
    """The run's predictor, by its task (tasks/ declares each); `run_dir` is a run directory or the
    name of an installed model (`lstmkit models` lists them):

    - sentiment -> `SentimentClassifier` (predict, explain, inspect); `ensemble`: more runs of the
      same classes whose probabilities are averaged with this one's;
    - textgen -> `TextGenerator` (generate, sample, inspect); `ensemble`: more runs on the same
      characters whose next-character probabilities are averaged with this one's;
    - translate -> `Translator` (translate, inspect).

    RunError (one line naming the file) if `run_dir` is not a complete run of lstmkit, or not one
    of `task` when given."""
    run_dir, ensemble = located(run_dir), [located(member) for member in ensemble]
    run = RunDirectory(run_dir)
    expected, name = task, run.load_config()["task"]
    if expected is not None and name != expected:
        raise RunError(f"{run_dir} holds a {name!r} run, not a {expected} one")
    found = task_named(name, str(run.path / "config.json"))
    if ensemble and not found.ensemble:
        averaged = " or ".join(other.name for other in registry().values() if other.ensemble)
        raise SettingsError("ensemble", f"averages {averaged} runs; {run_dir} is a {name} run")
    return found.load([run_dir, *ensemble], device)
