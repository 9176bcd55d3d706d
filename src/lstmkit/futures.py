"""What every engine that answers requests from a model thread shares (serve/batching.py's dynamic
batching, generation/continuous.py's continuous batching): the full-queue error, and setting a
request's future. No torch here: the server imports it."""

from __future__ import annotations

import asyncio


class Busy(Exception):
    """The model's queue is full: answer 503 with Retry-After."""


def answer(future: asyncio.Future, result) -> None:
    """Sets `future` to `result`, or raises it there when it is an exception (once; on its loop)."""
    if future.done():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)
