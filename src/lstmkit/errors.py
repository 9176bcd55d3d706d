"""Every error lstmkit raises on purpose, in one place, and the exit code the command gives each.

Each message is one line naming what was wrong (the file, folder or setting) and what is expected;
the command prints it after `lstmkit: error: ` and exits with the code below. A message names a
setting as the library does, in backquotes (`test_pairs`); the command line shows it as its flag
(--test-pairs: `as_flags`). Anything else is a
bug: one line as well (`--debug` shows the traceback), exit 1.

| exit | when | raised as |
|---|---|---|
| 0 | done | |
| 1 | the disk filled; a module an extra brings is missing; training diverged; any other failure | `DiskFull`, `MissingDependency`, `TrainingDiverged` |
| 2 | bad input: a data file, a run directory, a setting or a command-line argument | `DataError`, `RunError` (`RunInUse`), `SettingsError` |
| 130 | interrupted by SIGINT (Ctrl-C): training keeps its last completed epoch | |
| 141 | the reader of the output stopped early (`\\| head`) | |
| 143 | stopped by SIGTERM, as 130 | |
"""

from __future__ import annotations

import re

_NAMED_SETTING = re.compile(r"`([a-z][a-z0-9_]*)`")  # a setting a message names: `test_pairs`


class LstmkitError(Exception):
    """The base of the errors below: `except LstmkitError` catches every one lstmkit raises on purpose."""


class DataError(LstmkitError, ValueError):
    """Bad input data. The message is one line naming the input (file/folder path), what is wrong
    and what is expected."""


class RunError(LstmkitError, ValueError):
    """A run directory that is missing, incomplete or damaged; the message names the file."""


class RunInUse(RunError):
    """Another process holds the run directory's lock; the message names that process."""


class SettingsError(LstmkitError, ValueError):
    """A setting outside what it allows: `setting` names it as the library does (embedding_dim), and
    the message is "<setting> <problem>"; the command line says it as its flag (--embedding-dim)."""

    def __init__(self, setting: str, problem: str):
        super().__init__(f"{setting} {problem}")
        self.setting, self.problem = setting, problem

    def for_command_line(self) -> str:
        return f"{flag(self.setting)} {self.problem}"


def flag(setting: str) -> str:
    """A setting's command-line flag: batch_size -> --batch-size."""
    return "--" + setting.replace("_", "-")


def as_flags(message: str) -> str:
    """A message as the command line says it: each setting it names (`test_pairs`) as its flag (--test-pairs)."""
    return _NAMED_SETTING.sub(lambda named: flag(named.group(1)), message)


class DiskFull(LstmkitError, OSError):
    """The disk filled while a run was being written; the message says how much space it needs."""


class MissingDependency(LstmkitError, RuntimeError):
    """A module a feature needs is not installed; the message says what to install."""


class TrainingDiverged(LstmkitError, RuntimeError):
    """The loss kept coming out NaN/inf even after rolling back and lowering the learning rate."""
