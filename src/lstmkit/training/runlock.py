"""One writer per run directory: training takes an exclusive lock on RUN/.lock (fcntl.flock).

The kernel drops a flock when its process ends, however it ends, so a lock left by a killed
training is simply taken over by the next one. The holder writes its process id, machine and
command into the file, so that a second `train --out RUN` (or `--resume`) can name it. A process
holds the locks it takes until release_all() (the `lstmkit` command calls it as it ends) or until it
exits; taking a lock this process already holds is a no-op, so one process may train the same run
again (`--resume` after an interruption, in a notebook or a test). Where fcntl does not exist
(Windows), no lock is taken.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import sys
from pathlib import Path

from ..errors import RunInUse

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

LOCK = ".lock"
_held: dict[Path, tuple[int, bool]] = {}  # folder -> (the descriptor holding its lock, whether this process made it)


def acquire(folder: Path) -> None:
    """Takes the lock of `folder` (made if missing) for this process, or RunInUse naming the holder."""
    folder = Path(folder).resolve()
    if fcntl is None or folder in _held:
        return
    made = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_holder(descriptor)
        os.close(descriptor)
        raise RunInUse(f"{folder} is being written by {holder}; wait for it to end, or stop it, "
                       "before training into this run") from None
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                      "command": shlex.join(["lstmkit", *sys.argv[1:]])}).encode(), 0)
    _held[folder] = descriptor, made


def release_all() -> None:
    """Drops every lock this process holds; a folder it made and left holding nothing but the lock
    (a command that failed before writing, on bad input) is removed."""
    while _held:
        folder, (descriptor, made) = _held.popitem()
        if made and [path.name for path in folder.iterdir()] == [LOCK]:
            (folder / LOCK).unlink()
            folder.rmdir()
        os.close(descriptor)  # closing the descriptor drops its flock


def _read_holder(descriptor: int) -> str:
    try:
        holder = json.loads(os.pread(descriptor, 4096, 0) or b"{}")
        return f"process {holder['pid']} on {holder['host']} ({holder['command']})"
    except (ValueError, KeyError, TypeError, OSError):  # written by a process that was killed while writing it
        return "another process"
