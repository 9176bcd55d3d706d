"""Dynamic batching: concurrent requests to one model gathered into one call.

The requests that come while the model thread runs a batch form the next batch (up to `max_items`
items), so an idle model starts a lone request at once and a busy one gathers many; `wait` > 0 also
holds a batch that long for more. The gathered requests run as one batched call on the model
thread, and each gets its own answer.
32 clients are served by a few big matrix products instead of 32 small ones. With batching off
(max_items 1) every request is its own call, one after the other on the same thread.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Callable

from ..futures import Busy, answer


@dataclass
class Job:
    """One request's part of a batch: what it asks, its size in items, and how to answer it."""
    request: Any
    size: int
    future: asyncio.Future
    cancelled: bool = False  # its client went away: it is left out, or its work stops


@dataclass
class Batcher:
    """run(jobs) -> one result per job, called on `executor` (the one model thread); a result that
    is an exception is raised to that job's caller alone."""
    run: Callable[[list[Job]], list]
    executor: Executor
    max_items: int = 64  # items (texts, samples) in one batch
    wait: float = 0.0  # seconds a batch waits for more requests (0: one turn of the event loop)
    max_pending: int = 512  # items queued or running, at most: more is Busy
    queue: list[Job] = field(default_factory=list)
    pending: int = 0
    worker: asyncio.Task | None = None

    def check_room(self, size: int) -> None:
        """Busy when `size` more items would overfill the queue."""
        if self.pending + size > self.max_pending:
            raise Busy(f"{self.pending} items are waiting for this model")

    async def submit(self, request, size: int = 1):
        """The result of `request` once its batch has run; Busy at once when the queue is full. A
        caller cancelled while it waits marks its job cancelled: it is left out of its batch, or the
        batch's work may stop early (see run)."""
        self.check_room(size)
        job = Job(request, size, asyncio.get_running_loop().create_future())
        self.queue.append(job)
        self.pending += size
        if self.worker is None or self.worker.done():
            self.worker = asyncio.create_task(self._drain())
        try:
            return await job.future
        except asyncio.CancelledError:
            job.cancelled = True
            raise

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self.queue:
            if self.max_items > 1 and sum(job.size for job in self.queue) < self.max_items:
                await asyncio.sleep(self.wait)  # let concurrent requests join
            batch = self._take()
            live = [job for job in batch if not job.cancelled]
            try:
                if live:
                    results = await loop.run_in_executor(self.executor, self.run, live)
                    for job, result in zip(live, results):
                        answer(job.future, result)
            except Exception as error:  # noqa: BLE001 - the batch's callers get it, the worker goes on
                for job in live:
                    answer(job.future, error)
            finally:
                self.pending -= sum(job.size for job in batch)

    def _take(self) -> list[Job]:
        """The queued jobs from the first on, up to max_items items (the first however large)."""
        taken, items = [], 0
        while self.queue and (not taken or items + self.queue[0].size <= self.max_items):
            taken.append(self.queue.pop(0))
            items += taken[-1].size
        return taken



def batching(make_run: Callable[[Any], Callable[[list[Job]], list]]):
    """A task service's `start` (serve/contract.py) that batches each served model's requests:
    make_run(predictor) -> run(jobs), with the server's batch size, wait and queue."""
    def start(model, executor: Executor, settings) -> Batcher:
        return Batcher(make_run(model.predictor), executor, max_items=settings.max_batch, wait=settings.batch_wait,
                       max_pending=settings.max_pending)

    return start
