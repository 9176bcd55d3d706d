"""A run directory: everything a trained model is, written atomically.

    config.json        what rebuilds the model and its preprocessing
    vocab.json         the vocabulary (UTF-8)
    model.safetensors  the best weights so far (what evaluate / predict / sample load)
    last.safetensors   the latest weights, and
    trainer.pt         optimizer, RNG and loop state (for --resume; loaded with weights_only=True)
    history.jsonl      one line per epoch
    curves.png         the loss/metric curves

Each file is written to a temporary name and renamed, so a crash or Ctrl-C leaves the previous
good version of every file in place. Weights load on a CPU whatever device trained them. In a
distributed run only process 0 writes.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from . import distributed

CONFIG, VOCAB, BEST, LAST, TRAINER, HISTORY, CURVES = (
    "config.json", "vocab.json", "model.safetensors", "last.safetensors", "trainer.pt", "history.jsonl", "curves.png")


class RunError(ValueError):
    """A run directory that is missing or incomplete; the message names it."""


_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write(path: Path, write) -> None:
    """Calls write(temporary_path), then renames the result onto `path` (in process 0 only)."""
    if not distributed.is_main():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(temporary)
        os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp makes it private; a run is shared like any file
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda temporary: Path(temporary).write_text(text, encoding="utf-8"))


class RunDirectory:
    def __init__(self, path):
        self.path = Path(path)

    def file(self, name: str) -> Path:
        return self.path / name

    def exists(self) -> bool:
        return self.file(CONFIG).is_file()

    def start(self, resume: bool) -> bool:
        """Before training into this folder -> whether to resume (asked, and there is a run to
        continue). A run already here without `resume` is an error: nothing gets overwritten.
        All processes of a distributed run look, and must see the same."""
        problem = None
        if self.path.exists() and not self.path.is_dir():
            problem = f"--out {self.path} is a file; expected a folder for the run (new, or one to resume)"
        elif self.exists() and not resume:
            problem = (f"--out {self.path} already holds a run; pass --resume to continue it "
                       "or choose another folder")
        resuming = resume and self.exists()
        views = distributed.from_all((resuming, problem))  # before process 0 writes anything
        if first := next((seen_problem for _, seen_problem in views if seen_problem), None):
            raise RunError(first)
        main_sees = views[0][0]
        if others := [rank for rank, (seen, _) in enumerate(views) if seen != main_sees]:
            raise RunError(f"--out {self.path}: process 0 {'sees' if main_sees else 'does not see'} a run to resume "
                           f"there and process(es) {', '.join(map(str, others))} {'do not' if main_sees else 'do'}; "
                           "with several machines, --out must be a folder they all share")
        if resume and not resuming:
            warnings.warn(f"--resume: {self.path} holds no run yet; starting a new one", stacklevel=2)
        if distributed.is_main():
            self._check_writable()
        return resuming

    def _check_writable(self) -> None:
        """RunError unless a file can be written where the run goes (before any training is done)."""
        folder = self.path
        while not folder.exists() and folder != folder.parent:  # the nearest folder that exists: none is made
            folder = folder.parent
        try:
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as error:
            raise RunError(f"--out {self.path}: cannot write in {folder} ({error.strerror}); "
                           "expected a folder you can write to") from None

    # --- writing -----------------------------------------------------------------------
    def save_config(self, config: dict) -> None:
        _write_text(self.file(CONFIG), json.dumps(config, indent=1, ensure_ascii=False) + "\n")

    def save_text(self, name: str, text: str) -> None:
        _write_text(self.file(name), text)

    def save_vocab(self, vocab: dict) -> None:
        _write_text(self.file(VOCAB), json.dumps(vocab, ensure_ascii=False) + "\n")

    def save_weights(self, model: torch.nn.Module, name: str = BEST) -> None:
        tensors = {key: value.detach().cpu().contiguous() for key, value in model.state_dict().items()}
        atomic_write(self.file(name), lambda temporary: save_file(tensors, temporary))

    def save_trainer(self, state: dict) -> None:
        atomic_write(self.file(TRAINER), lambda temporary: torch.save(state, temporary))

    def save_history(self, rows: list[dict]) -> None:
        _write_text(self.file(HISTORY), "".join(json.dumps(row) + "\n" for row in rows))

    # --- reading -----------------------------------------------------------------------
    def _require(self, name: str) -> Path:
        path = self.file(name)
        if not path.is_file():
            what = "is not a run directory (no config.json)" if name == CONFIG else f"has no {name}"
            raise RunError(f"{self.path} {what}; expected a folder written by `lstmkit ... train --out`")
        return path

    def load_config(self) -> dict:
        return json.loads(self._require(CONFIG).read_text(encoding="utf-8"))

    def load_task_config(self, task: str) -> dict:
        """The task's config as saved; RunError if the run belongs to another task."""
        saved = self.load_config()
        if saved.get("task") != task:
            raise RunError(f"{self.path} holds a {saved.get('task')!r} run, not a {task} one")
        return saved["config"]

    def load_vocab(self) -> dict:
        return json.loads(self._require(VOCAB).read_text(encoding="utf-8"))

    def load_weights(self, model: torch.nn.Module, name: str = BEST) -> torch.nn.Module:
        model.load_state_dict(load_file(self._require(name), device="cpu"))
        return model

    def load_trainer(self) -> dict:
        return torch.load(self._require(TRAINER), map_location="cpu", weights_only=True)

    def trained_epochs(self) -> int:
        """Epochs whose weights are saved for --resume (0 when none, or the state is unreadable)."""
        try:
            return int(self.load_trainer()["epoch"]) if self.file(TRAINER).is_file() else 0
        except Exception:  # noqa: BLE001 - a damaged trainer.pt is reported where it is loaded
            return 0

    def load_history(self) -> list[dict]:
        path = self.file(HISTORY)
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
