"""Dynamic batching (sentiment): requests that arrive while a batch runs form the next batch; a full
queue is Busy; a request whose caller went away is left out. Driven by events, not by timing."""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from lstmkit.futures import Busy
from lstmkit.serve.batching import Batcher


def blocking_run(calls: list, release: threading.Event):
    """run(jobs) that records each batch and holds the first one until `release`."""
    def run(jobs):
        calls.append([job.request for job in jobs])
        if len(calls) == 1:
            assert release.wait(30)
        return [job.request * 10 for job in jobs]

    return run


async def until(condition):
    while not condition():
        await asyncio.sleep(0.001)


@pytest.mark.parametrize("max_items, batches", [(64, [[0], [1, 2, 3, 4, 5, 6, 7]]),
                                                (1, [[0], [1], [2], [3], [4], [5], [6], [7]]),
                                                (3, [[0], [1, 2, 3], [4, 5, 6], [7]])])
def test_requests_that_come_while_a_batch_runs_form_the_next_batches(max_items, batches):
    calls, release = [], threading.Event()

    async def scenario():
        batcher = Batcher(blocking_run(calls, release), ThreadPoolExecutor(1), max_items=max_items, wait=0)
        first = asyncio.ensure_future(batcher.submit(0))
        await until(lambda: calls)  # the first batch runs, and holds the model thread
        others = [asyncio.ensure_future(batcher.submit(number)) for number in range(1, 8)]
        await until(lambda: batcher.pending == 8)
        release.set()
        return await asyncio.gather(first, *others)

    assert asyncio.run(scenario()) == [0, 10, 20, 30, 40, 50, 60, 70]
    assert calls == batches


def test_a_full_queue_is_busy_and_a_cancelled_request_is_left_out():
    calls, release = [], threading.Event()

    async def scenario():
        batcher = Batcher(blocking_run(calls, release), ThreadPoolExecutor(1), wait=0, max_pending=3)
        first = asyncio.ensure_future(batcher.submit(0))
        await until(lambda: calls)
        gone, kept = asyncio.ensure_future(batcher.submit(1)), asyncio.ensure_future(batcher.submit(2))
        await until(lambda: batcher.pending == 3)
        with pytest.raises(Busy):
            await batcher.submit(3)
        gone.cancel()
        await asyncio.sleep(0)
        release.set()
        return await first, await kept

    assert asyncio.run(scenario()) == (0, 20)
    assert calls == [[0], [2]]
