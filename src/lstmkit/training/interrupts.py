"""Ctrl-C (SIGINT) and SIGTERM, one rule for every command.

Outside training a signal stops the command at once, as Python's own Ctrl-C does (a
KeyboardInterrupt, so `finally` blocks and temporary files are cleaned up). While fit() trains
(inside `deferred()`), the first signal is only noted: the loop stops at the next step boundary, or
after the epoch it is validating and saving, with the last completed epoch on disk. A second signal
stops at once; every file of a run is written atomically, so the run directory still loads.

The `lstmkit` command notes signals from its very start (install()), so one arriving while torch
loads or while the process ends is neither a traceback nor lost.

A KeyboardInterrupt raised while Python runs a finalizer (a weakref callback, __del__, during
matplotlib's drawing for one) is swallowed there and printed as "Exception ignored in ...", and the
command would run on. So such a swallowed interrupt ends the process itself, quietly, with the
command's interruption message and exit code.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from typing import Callable

SIGNALS = (signal.SIGINT, signal.SIGTERM)

# mode: "at once" raises KeyboardInterrupt; "deferred" only notes the first signal; "noted" never
# raises. Once raised, the mode is "noted": the code that is stopping is not interrupted again.
_state = {"signal": None, "count": 0, "mode": "at once", "on_lost": None}


def received() -> int | None:
    """The signal number this process was sent (the first one), or None."""
    return _state["signal"]


def count() -> int:
    """How many signals this process was sent (a launcher passes each one on)."""
    return _state["count"]


def exit_code() -> int:
    """What a shell reports for a process stopped by the signal received: 130 for SIGINT, 143 for SIGTERM."""
    return 128 + (_state["signal"] or signal.SIGINT)


def note(signum: int) -> None:
    """Records `signum` as received without raising (for another process's signal, shared by a collective)."""
    if _state["signal"] is None:
        _state["signal"] = signum


def _on_signal(signum, frame) -> None:
    first = _state["signal"] is None
    note(signum)
    _state["count"] += 1
    if _state["mode"] == "at once" or (_state["mode"] == "deferred" and not first):
        _state["mode"] = "noted"
        raise KeyboardInterrupt


def _install() -> None:
    for signum in SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:  # ignored from the start (`&` in a script): leave it so
            signal.signal(signum, _on_signal)
    sys.unraisablehook = _on_unraisable


def install() -> None:
    """For the whole process, first of all (the `lstmkit` command): outside handled() a signal is
    only noted, so one that comes while the command starts or ends is neither a traceback nor an
    `Exception ignored` line; handled() then stops at once for a signal noted before it."""
    _state["mode"] = "noted"
    _install()


def _on_unraisable(unraisable) -> None:
    """A KeyboardInterrupt swallowed in a finalizer: end the command now, as it was asked."""
    if not issubclass(unraisable.exc_type, KeyboardInterrupt):
        sys.__unraisablehook__(unraisable)
        return
    code = _state["on_lost"]() if _state["on_lost"] is not None else exit_code()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a stream mid-write when the signal came may refuse
            stream.flush()
    os._exit(code)


@contextlib.contextmanager
def handled(on_lost: Callable[[], int] | None = None):
    """Handles SIGINT and SIGTERM in the block, at once unless deferred(); the previous handlers and
    state come back after. A signal noted before (see install()) counts as received. `on_lost()`
    prints the interruption message and returns the exit code, for an interrupt that a finalizer
    swallowed. A signal the process was started with ignored stays ignored. Off the main thread,
    where Python allows no handler, the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in SIGNALS}
    previous_hook, previous_state = sys.unraisablehook, dict(_state)
    _state.update(mode="at once", count=0, on_lost=on_lost)
    _install()
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        sys.unraisablehook = previous_hook
        _state.update(previous_state)


@contextlib.contextmanager
def deferred():
    """Inside this block a first signal is only noted (see received()); the code checks it at safe
    points and raises KeyboardInterrupt there (stop_if_received)."""
    outer = _state["mode"]
    _state["mode"] = "deferred"
    try:
        yield
    finally:
        _state["mode"] = outer


def stop_if_received() -> None:
    """Raises KeyboardInterrupt when a signal was received: call it where stopping loses nothing."""
    if _state["signal"] is not None:
        raise KeyboardInterrupt
