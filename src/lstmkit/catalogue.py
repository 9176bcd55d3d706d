"""Trained models that come with lstmkit: a name (`imdb-lstm`) stands for a run directory an installed
catalogue holds, wherever a run directory is read (`lstmkit.load`, evaluate, predict, sample,
translate, inspect, export, serve).

A catalogue is a package declared under the entry-point group `lstmkit.models`: the companion
distribution lstmkit-models (built from models/ in this repository, docs/MODELS.md) is one, and a
user's own package can be another. It holds `catalogue.json` and one run directory per model. Every
file's sha256 is in catalogue.json and is checked before the model is read: a changed byte is one
RunError naming the file. A path that exists always wins over a name.

This module imports nothing heavy.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path

from .errors import RunError

GROUP = "lstmkit.models"  # the entry-point group a catalogue package declares itself under
INDEX = "catalogue.json"
CARD = "card.md"  # each model's card, in its run directory
REINSTALL = "reinstall it: pip install --force-reinstall lstmkit-models"


@dataclass(frozen=True)
class Model:
    """One model of a catalogue, as catalogue.json describes it."""

    name: str
    task: str
    path: Path  # its run directory
    summary: str  # one line: what it is
    metric: dict  # the headline test metric: {"name", "value", "data"}
    licence: str  # the licence of the data it learned from
    files: dict = field(default_factory=dict)  # file name -> sha256
    default: bool = False  # what `lstmkit serve` with no run serves for its task

    @property
    def size(self) -> int:
        """Bytes of its files."""
        return sum((self.path / name).stat().st_size for name in self.files if (self.path / name).is_file())

    def listing(self) -> dict:
        """What `lstmkit models --json` prints of it."""
        return {"name": self.name, "task": self.task, "summary": self.summary, "metric": self.metric,
                "licence": self.licence, "bytes": self.size, "default": self.default, "path": str(self.path)}


def _read_index(root: Path, package: str) -> list[Model]:
    index = root / INDEX
    try:
        entries = json.loads(index.read_text(encoding="utf-8"))["models"]
        return [Model(name=entry["name"], task=entry["task"], path=root / entry["path"], summary=entry["summary"],
                      metric=entry["metric"], licence=entry["licence"], files=dict(entry["files"]),
                      default=bool(entry.get("default", False))) for entry in entries]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise RunError(f"{index}: not a catalogue of the package {package} ({type(error).__name__}: {error}); "
                       f"{REINSTALL}") from None


@cache
def catalogue() -> dict[str, Model]:
    """Every installed model by name, the catalogues in the order their packages are found."""
    models = {}
    for entry in sorted(metadata.entry_points(group=GROUP), key=lambda entry: entry.name):
        try:
            module = entry.load()
        except Exception as error:  # a broken catalogue package: one line naming it
            raise RunError(f"the model catalogue {entry.value} (entry point {entry.name} of {GROUP}) cannot be "
                           f"imported: {type(error).__name__}: {error}") from None
        for model in _read_index(Path(module.__file__).parent, entry.value):
            models.setdefault(model.name, model)
    return models


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_checked: dict[Path, tuple[int, int]] = {}  # files found intact, with the size and time they had then


def verified(model: Model) -> Path:
    """The model's run directory once every file matches its sha256; RunError naming the first that
    is missing or changed."""
    for name, expected in model.files.items():
        path = model.path / name
        if not path.is_file():
            raise RunError(f"{path}: missing from the installed model {model.name}; {REINSTALL}")
        stat = path.stat()
        if _checked.get(path) == (stat.st_size, stat.st_mtime_ns):
            continue
        if _sha256(path) != expected:
            raise RunError(f"{path}: damaged: its sha256 differs from the one catalogue.json gives for the "
                           f"model {model.name}; {REINSTALL}")
        _checked[path] = (stat.st_size, stat.st_mtime_ns)
    return model.path


def located(run):
    """A run directory's path as given, or for the name of an installed model its checked run
    directory. A path that exists, or one with a folder in it, is never taken for a name."""
    if not isinstance(run, str) or os.sep in run or Path(run).exists():
        return run
    model = catalogue().get(run)
    return verified(model) if model is not None else run


def named(name: str) -> Model:
    """The installed model `name`; RunError listing the installed ones when there is none."""
    model = catalogue().get(name)
    if model is None:
        known = ", ".join(catalogue()) or "none (pip install lstmkit-models)"
        raise RunError(f"no installed model is named {name!r}; installed: {known}")
    return model


def defaults() -> list[Model]:
    """Each task's default model, in task order: what `lstmkit serve` serves when given no run."""
    chosen = {}
    for model in catalogue().values():
        if model.default:
            chosen.setdefault(model.task, model)
    return list(chosen.values())


def card(name: str) -> str:
    """The model card of the installed model `name` (markdown)."""
    model = named(name)
    return (verified(model) / CARD).read_text(encoding="utf-8")
