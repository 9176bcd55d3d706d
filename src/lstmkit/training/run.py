"""A run directory: everything a trained model is, written so that no crash, kill or full disk
leaves it unreadable.

    config.json        what rebuilds the model and its preprocessing (with the run format's version)
    vocab.json         the vocabulary (UTF-8)
    model.safetensors  the best weights so far (what evaluate / predict / sample load)
    last.safetensors   the latest weights, and
    trainer.pt         optimizer, RNG and loop state (for --resume; loaded with weights_only=True):
                       together the checkpoint, stamped with one id
    history.jsonl      one line per epoch
    curves.png         the loss/metric curves
    .lock              held by the process training into the folder (runlock.py)

Each file is written to a temporary name, flushed to the disk (fsync) and renamed, so a crash,
kill -9 or full disk leaves the previous good version of every file in place. The checkpoint is
two files written as one unit: both are first written whole under .next names, and renaming the
weights into place is the commit; a later start finishes a commit that was cut short or drops
one that never happened (recover()), and loading checks that the two carry the same stamp.
Weights load on a CPU whatever device trained them, only from safetensors; every file is checked
as it is read (RunError naming the file). In a distributed run only process 0 writes.
"""

from __future__ import annotations

import dataclasses
import errno
import io
import json
import os
import secrets
import shutil
import tempfile
import types
import typing
import warnings
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file
from safetensors.torch import save as save_tensors

from ..errors import DiskFull, RunError, RunInUse, SettingsError
from ..settings import check_config
from . import distributed, runlock

CONFIG, VOCAB, BEST, LAST, TRAINER, HISTORY, CURVES = (
    "config.json", "vocab.json", "model.safetensors", "last.safetensors", "trainer.pt", "history.jsonl", "curves.png")
NEXT = ".next"  # suffix of a checkpoint file written but not committed yet
FORMAT = 1  # the run directory's format: a run of a newer format is refused, not misread
EXPECTED = "expected a folder written by `lstmkit ... train --out`"
NOT_A_RUN = f"{EXPECTED}, or an installed model's name (`lstmkit models` lists them)"


_UMASK = os.umask(0)
os.umask(_UMASK)


def _fsync(path: Path) -> None:
    """Flushes a file, or a folder's list of names, to the disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    except OSError as error:  # some file systems cannot fsync a folder
        if error.errno not in (errno.EINVAL, errno.EBADF):
            raise
    finally:
        os.close(descriptor)


def atomic_write(path: Path, data: bytes, needs: tuple[str, int] | None = None) -> None:
    """Writes `data` to a temporary file, flushes it to the disk, then renames it onto `path` (in
    process 0 only). A full disk leaves `path` as it was and raises DiskFull, saying how much space
    what is being written needs: `needs` = (what, bytes), by default (the file's name, len(data)).
    The bytes are made before the file is opened, so every write error is an OSError raised here,
    whatever serialized them (safetensors and torch.save report a full disk in their own words)."""
    if not distributed.is_main():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp makes it private; a run is shared like any file
        os.replace(temporary, path)
        _fsync(path.parent)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            free = shutil.disk_usage(path.parent).free
            raise DiskFull(error.errno, f"{path.parent}: the disk is full ({_megabytes(free)} free); "
                                        f"{needs[0] if needs else path.name} needs about "
                                        f"{_megabytes(needs[1] if needs else len(data))}, and the run's "
                                        "last checkpoint is intact: free some space") from None
        raise


def _megabytes(count: int) -> str:
    return f"{count / 1e6:,.1f} MB"


def _weights_bytes(model: torch.nn.Module, stamp: str | None = None) -> bytes:
    """The model's tensors as safetensors, stamped with the checkpoint they belong to."""
    tensors = {key: value.detach().cpu().contiguous() for key, value in model.state_dict().items()}
    return save_tensors(tensors, metadata={"checkpoint": stamp} if stamp else None)


def _trainer_bytes(state: dict) -> bytes:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def _write_text(path: Path, text: str) -> None:
    atomic_write(path, text.encode("utf-8"))


def _check_value(value, kind) -> bool:
    """Whether a JSON value fits a dataclass field's type (int, float, str, bool, X | None,
    tuple[...] / list[...] of those, dict)."""
    origin, arguments = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        return any(_check_value(value, argument) for argument in arguments)
    if kind is type(None):
        return value is None
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin in (tuple, list):
        item = arguments[0] if arguments else typing.Any
        return isinstance(value, list) and (item is typing.Any or all(_check_value(v, item) for v in value))
    if origin is dict or kind is dict:
        return isinstance(value, dict)
    if kind is typing.Any:
        return True
    return isinstance(value, kind)


class RunDirectory:
    def __init__(self, path):
        self.path = Path(path)

    def file(self, name: str) -> Path:
        return self.path / name

    def exists(self) -> bool:
        return self.file(CONFIG).is_file()

    def start(self, resume: bool) -> bool:
        """Before training into this folder -> whether to resume (asked, and there is a run to
        continue). The folder must be writable and not in use by another training (process 0 takes
        its lock: runlock.py), and a run already here without `resume` is an error: nothing gets
        overwritten. All processes of a distributed run look, and must see the same."""
        problem = None
        if self.path.exists() and not self.path.is_dir():
            problem = f"`out` {self.path} is a file; expected a folder for the run (new, or one to resume)"
        elif distributed.is_main():
            problem = self._unwritable() or self._lock()
        if problem is None and self.exists() and not resume:
            problem = (f"`out` {self.path} already holds a run; pass `resume` to continue it "
                       "or choose another folder")
        resuming = resume and self.exists()
        views = distributed.from_all((resuming, problem))  # before process 0 writes anything
        if first := next((seen_problem for _, seen_problem in views if seen_problem), None):
            raise RunError(first)
        main_sees = views[0][0]
        if others := [rank for rank, (seen, _) in enumerate(views) if seen != main_sees]:
            raise RunError(f"`out` {self.path}: process 0 {'sees' if main_sees else 'does not see'} a run to resume "
                           f"there and process(es) {', '.join(map(str, others))} {'do not' if main_sees else 'do'}; "
                           "with several machines, --out must be a folder they all share")
        if resume and not resuming:
            warnings.warn(f"`resume`: {self.path} holds no run yet; starting a new one", stacklevel=2)
        if distributed.is_main():
            self.recover()
        return resuming

    def _unwritable(self) -> str | None:
        """Why no file can be written where the run goes, or None (nothing is made to find out)."""
        folder = self.path
        while not folder.exists() and folder != folder.parent:  # the nearest folder that exists
            folder = folder.parent
        try:
            with tempfile.TemporaryFile(dir=folder):
                return None
        except OSError as error:
            return f"`out` {self.path}: cannot write in {folder} ({error.strerror}); expected a folder you can write to"

    def _lock(self) -> str | None:
        """Takes the folder's lock for this process -> None, or who holds it."""
        try:
            runlock.acquire(self.path)
        except RunInUse as error:
            return f"`out` {error}"
        return None

    def recover(self) -> None:
        """Run by the process holding the lock before it trains: finishes a checkpoint whose commit
        was cut short, drops one that was never committed, and removes the temporary files of
        writes that were killed."""
        last_next, trainer_next = self.file(LAST + NEXT), self.file(TRAINER + NEXT)
        if last_next.exists():  # the commit (renaming the weights) never happened: the old checkpoint stands
            last_next.unlink()
            trainer_next.unlink(missing_ok=True)
        elif trainer_next.exists():  # the weights were committed: their trainer state is complete
            if self._stamp_of_trainer(trainer_next) == self._stamp_of_weights(self.file(LAST)):
                os.replace(trainer_next, self.file(TRAINER))
                _fsync(self.path)
            else:
                trainer_next.unlink()
        for leftover in self.path.glob(".*.tmp"):
            leftover.unlink(missing_ok=True)

    # --- writing -----------------------------------------------------------------------
    def save_config(self, config: dict) -> None:
        _write_text(self.file(CONFIG), json.dumps({"format": FORMAT, **config}, indent=1, ensure_ascii=False) + "\n")

    def save_text(self, name: str, text: str) -> None:
        _write_text(self.file(name), text)

    def save_vocab(self, vocab: dict) -> None:
        _write_text(self.file(VOCAB), json.dumps(vocab, ensure_ascii=False) + "\n")

    def save_weights(self, model: torch.nn.Module, name: str = BEST) -> None:
        atomic_write(self.file(name), _weights_bytes(model))

    def save_checkpoint(self, model: torch.nn.Module, state: dict) -> None:
        """The latest weights and the trainer state, as one unit (see above)."""
        stamp = f"{state['epoch']}-{secrets.token_hex(6)}"
        weights, trainer = _weights_bytes(model, stamp), _trainer_bytes({**state, "checkpoint": stamp})
        needs = ("a checkpoint", 2 * len(weights) + len(trainer))  # with the best weights beside it
        try:
            atomic_write(self.file(LAST + NEXT), weights, needs)
            atomic_write(self.file(TRAINER + NEXT), trainer, needs)
        except BaseException:  # not committed: the half of it written goes
            self.file(LAST + NEXT).unlink(missing_ok=True)
            raise
        if distributed.is_main():
            os.replace(self.file(LAST + NEXT), self.file(LAST))  # the commit
            _fsync(self.path)
            os.replace(self.file(TRAINER + NEXT), self.file(TRAINER))
            _fsync(self.path)

    def save_trainer(self, state: dict) -> None:
        """A new trainer state for the weights already in last.safetensors."""
        atomic_write(self.file(TRAINER), _trainer_bytes({**state, "checkpoint": self._stamp_of_weights(self.file(LAST))}))

    def save_history(self, rows: list[dict]) -> None:
        _write_text(self.file(HISTORY), "".join(json.dumps(row) + "\n" for row in rows))

    # --- reading -----------------------------------------------------------------------
    def _require(self, name: str) -> Path:
        path = self.file(name)
        if not path.is_file():
            if name == CONFIG:
                raise RunError(f"{self.path} is not a run directory (no config.json); {NOT_A_RUN}")
            raise RunError(f"{self.path} has no {name}; {EXPECTED}")
        return path

    def _load_json(self, name: str):
        path = self._require(name)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise RunError(f"{path} is damaged: not UTF-8 JSON ({str(error).splitlines()[0]}); {EXPECTED}") from None

    def load_config(self) -> dict:
        """config.json, checked: an object with the run format, the task and its config."""
        saved, path = self._load_json(CONFIG), self.file(CONFIG)
        if not isinstance(saved, dict):
            raise RunError(f"{path} is damaged: a JSON {type(saved).__name__}, not an object; {EXPECTED}")
        version = saved.get("format", 1)
        if not isinstance(version, int) or version > FORMAT:
            raise RunError(f"{path} is of run format {version!r}, newer than this lstmkit reads ({FORMAT}); "
                           "upgrade lstmkit to load it")
        for key, kind in (("task", str), ("config", dict)):
            if not isinstance(saved.get(key), kind):
                raise RunError(f"{path} is damaged: {key!r} is {'missing' if key not in saved else 'not a ' + kind.__name__}"
                               f"; {EXPECTED}")
        return saved

    def saved(self, key: str, kind):
        """A top-level value of config.json, checked against `kind` (a type, or a typing form)."""
        value = self.load_config().get(key)
        if not _check_value(value, kind):
            raise RunError(f"{self.file(CONFIG)} is damaged: {key!r} is {'missing' if value is None else repr(value)}; "
                           f"{EXPECTED}")
        return value

    def load_task_config(self, task: str, config_class) -> dict:
        """The task's config as saved, checked against the fields of the dataclass `config_class`
        (a field missing takes its default: runs of older versions load); RunError if the run
        belongs to another task, or a value is not of its type or outside its declared limit or choices."""
        saved, path = self.load_config(), self.file(CONFIG)
        if saved["task"] != task:
            raise RunError(f"{self.path} holds a {saved['task']!r} run, not a {task} one")
        config, fields = saved["config"], {field.name: field for field in dataclasses.fields(config_class)}
        if unknown := sorted(set(config) - set(fields)):
            raise RunError(f"{path}: unknown config key(s) {', '.join(unknown)} (written by another lstmkit?); "
                           f"{EXPECTED}")
        kinds = typing.get_type_hints(config_class)
        for name, value in config.items():
            if not _check_value(value, kinds[name]):
                raise RunError(f"{path} is damaged: config {name!r} is {value!r}, expected {kinds[name]}")
        missing = [name for name, field in fields.items() if name not in config
                   and field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING]
        if missing:
            raise RunError(f"{path} is damaged: config key(s) {', '.join(missing)} missing; {EXPECTED}")
        values = {name: tuple(value) if isinstance(value, list) and typing.get_origin(kinds[name]) is tuple else value
                  for name, value in config.items()}
        try:  # each setting within what its declaration allows
            check_config(config_class(**values))
        except SettingsError as error:
            raise RunError(f"{path} is damaged: config {error}") from None
        return values

    def load_vocab(self, parse=lambda data: data):
        """parse(vocab.json's data) -> the vocabulary; RunError naming the file if it does not parse."""
        data = self._load_json(VOCAB)
        try:
            return parse(data)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
            raise RunError(f"{self.file(VOCAB)} is damaged: not a vocabulary lstmkit wrote ({type(error).__name__}: "
                           f"{error}); {EXPECTED}") from None

    def load_weights(self, model: torch.nn.Module, name: str = BEST) -> torch.nn.Module:
        """The weights of file `name` into `model`; RunError naming the file unless they are
        exactly the model's tensors (names, shapes, dtypes; a float32 tensor may be stored as
        bfloat16, half the size, as the largest shipped models are: it loads as float32)."""
        path = self._require(name)
        try:
            tensors = load_file(path, device="cpu")
        except (SafetensorError, OSError, ValueError) as error:
            raise RunError(f"{path} is damaged: not readable safetensors ({error}); {EXPECTED}") from None
        expected = model.state_dict()
        if missing := sorted(set(expected) - set(tensors)):
            raise RunError(f"{path} does not fit the run's model: no tensor {', '.join(missing[:3])}; {EXPECTED}")
        if unknown := sorted(set(tensors) - set(expected)):
            raise RunError(f"{path} does not fit the run's model: unknown tensor {', '.join(unknown[:3])}; {EXPECTED}")
        for key, tensor in tensors.items():
            if tensor.dtype == torch.bfloat16 and expected[key].dtype == torch.float32:
                tensors[key] = tensor = tensor.float()
            if tensor.shape != expected[key].shape or tensor.dtype != expected[key].dtype:
                raise RunError(f"{path} does not fit the run's model: {key} is {tensor.dtype} {tuple(tensor.shape)}, "
                               f"expected {expected[key].dtype} {tuple(expected[key].shape)}")
        model.load_state_dict(tensors)
        return model

    def load_trainer(self, name: str = TRAINER) -> dict:
        """trainer.pt (tensors and plain values only: weights_only=True); RunError if it is damaged."""
        path = self._require(name)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch's notes on a foreign pickle's protocol: the error says it all
                state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # noqa: BLE001 - whatever the unpickler says, the file is not ours
            reason = str(error).strip().splitlines()[0][:160] if str(error).strip() else type(error).__name__
            raise RunError(f"{path} is damaged or not a trainer state lstmkit wrote ({reason}); {EXPECTED}") from None
        if not isinstance(state, dict) or not isinstance(state.get("epoch"), int):
            raise RunError(f"{path} is damaged: not a trainer state lstmkit wrote; {EXPECTED}")
        return state

    def load_checkpoint(self, model: torch.nn.Module) -> dict:
        """last.safetensors into `model` -> the trainer state; RunError unless both are one checkpoint."""
        state = self.load_trainer()
        self.load_weights(model, LAST)
        stamp = self._stamp_of_weights(self.file(LAST))
        if state.get("checkpoint") != stamp:
            raise RunError(f"{self.file(TRAINER)} and {LAST} are of different checkpoints ({state.get('checkpoint')} "
                           f"and {stamp}); {EXPECTED}")
        return state

    def _stamp_of_weights(self, path: Path) -> str | None:
        try:
            with safe_open(str(path), framework="pt") as weights:
                return (weights.metadata() or {}).get("checkpoint")
        except (SafetensorError, OSError):
            return None

    def _stamp_of_trainer(self, path: Path) -> str | None:
        try:
            return self.load_trainer(path.name).get("checkpoint")
        except RunError:  # a damaged file has no stamp
            return None

    def trained_epochs(self) -> int:
        """Epochs whose weights are saved for --resume (0 when none, or the state is unreadable)."""
        try:
            return self.load_trainer()["epoch"] if self.file(TRAINER).is_file() else 0
        except RunError:
            return 0

    def load_history(self) -> list[dict]:
        path = self.file(HISTORY)
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
