"""Continuous batching of generation, step by step: the model thread is replaced by an executor the
test runs by hand, so which request joins at which step is fixed, not left to timing."""

import asyncio
from concurrent.futures import Executor, Future

import lstmkit
from lstmkit.tasks.textgen.service import GenerateRequest, Generation, made
from lstmkit.generation.continuous import STEPS_PER_SLICE, ContinuousGeneration


class ByHand(Executor):
    """Runs what is submitted only when the test calls run_next()."""

    def __init__(self):
        self.queued = []

    def submit(self, fn, *args):
        future = Future()
        self.queued.append((fn, args, future))
        return future

    def run_next(self):
        fn, args, future = self.queued.pop(0)
        future.set_result(fn(*args))


async def turn():
    for _ in range(3):
        await asyncio.sleep(0)


def test_a_request_joins_a_running_batch_and_leaves_it_when_done(trained_runs):
    generator = lstmkit.load(trained_runs["textgen"])

    async def scenario():
        executor = ByHand()
        engine = ContinuousGeneration(generator.sampler, generator.vocabulary.size, executor)
        first = Generation(GenerateRequest(seed_text="the ", length=3 * STEPS_PER_SLICE, num=2, seed=1, stream=True))
        a = asyncio.ensure_future(made(engine, generator, first))
        await turn()
        executor.run_next()  # admitted, and its first slice of steps
        await turn()
        assert [stream.step for stream in engine.active] == [1 + STEPS_PER_SLICE]
        b = asyncio.ensure_future(made(engine, generator, Generation(GenerateRequest(seed_text="a ", length=4, seed=2))))
        c = asyncio.ensure_future(made(engine, generator, Generation(GenerateRequest(seed_text="", length=5))))
        await turn()
        executor.run_next()  # b and c join at the step boundary; b (4 characters) leaves within this slice
        await turn()
        assert [stream.step for stream in engine.active] == [1 + 2 * STEPS_PER_SLICE]  # b and c are done already
        assert b.done() and len(b.result()[0]) == 4 and c.done() and len(c.result()[0]) == 5
        while executor.queued:
            executor.run_next()
            await turn()
        samples = await a
        pieces = []
        while not first.queue.empty():
            pieces.append(first.queue.get_nowait())
        return samples, pieces

    samples, pieces = asyncio.run(scenario())
    assert [len(sample) for sample in samples] == [3 * STEPS_PER_SLICE] * 2
    assert ["".join(step[k] for step in pieces) for k in range(2)] == samples  # streamed as made


def test_a_cancelled_request_leaves_the_batch_and_the_others_go_on(trained_runs):
    generator = lstmkit.load(trained_runs["textgen"])

    async def scenario():
        executor = ByHand()
        engine = ContinuousGeneration(generator.sampler, generator.vocabulary.size, executor)
        kept = asyncio.ensure_future(made(engine, generator, Generation(GenerateRequest(length=2 * STEPS_PER_SLICE))))
        gone = asyncio.ensure_future(made(engine, generator, Generation(GenerateRequest(length=2 * STEPS_PER_SLICE, num=3))))
        await turn()
        executor.run_next()
        await turn()
        assert sum(stream.rows for stream in engine.active) == 4
        gone.cancel()
        await turn()
        executor.run_next()  # the cancelled one's rows leave at the next step
        await turn()
        while executor.queued:
            executor.run_next()
            await turn()
        return await kept, engine

    samples, engine = asyncio.run(scenario())
    assert len(samples[0]) == 2 * STEPS_PER_SLICE and engine.active == [] and engine.pending == 0


def test_streams_batched_together_sample_what_each_samples_alone_and_stop_when_every_caller_is_gone(trained_runs):
    generator = lstmkit.load(trained_runs["textgen"])
    requests = [GenerateRequest(seed_text="the ", length=30, num=2, temperature=0.8, seed=5),
                GenerateRequest(seed_text="a will", length=12, temperature=0.8, seed=9),
                GenerateRequest(seed_text="", length=20, top_k=5, seed=1),
                GenerateRequest(seed_text="the ", length=25, top_p=0.8, seed=2)]

    async def scenario(cancel_all: bool):
        executor = ByHand()
        engine = ContinuousGeneration(generator.sampler, generator.vocabulary.size, executor)
        tasks = [asyncio.ensure_future(made(engine, generator, Generation(request))) for request in requests]
        await turn()
        executor.run_next()  # all four join in the first slice
        await turn()
        assert len(engine.active) == 4
        if cancel_all:
            for task in tasks:
                task.cancel()
            await turn()
            executor.run_next()  # their rows leave at the next step
            await turn()
            return engine
        while executor.queued:
            executor.run_next()
            await turn()
        return [await task for task in tasks]

    together = asyncio.run(scenario(cancel_all=False))
    alone = [generator.sample(r.seed_text, r.length, temperature=r.temperature, top_k=r.top_k, top_p=r.top_p, num=r.num,
                              seed=r.seed) for r in requests]
    assert together == alone
    assert [len(sample) for samples in together for sample in samples] == [30, 30, 12, 20, 25]
    stopped = asyncio.run(scenario(cancel_all=True))
    assert stopped.active == [] and stopped.pending == 0 and not stopped.scheduled  # nothing runs on


def test_a_request_that_fails_to_join_is_answered_and_the_batch_goes_on(trained_runs, monkeypatch):
    import lstmkit.generation.continuous as streams

    generator, real_choose = lstmkit.load(trained_runs["textgen"]), streams.choose

    def choose(logits, options, rng=None):  # a bug that only top_k 7 meets
        if options.strategy == "top-k" and options.top_k == 7:
            raise RuntimeError("probability tensor contains either inf, nan or element < 0")
        return real_choose(logits, options, rng)

    monkeypatch.setattr(streams, "choose", choose)

    async def scenario():
        executor = ByHand()
        engine = ContinuousGeneration(generator.sampler, generator.vocabulary.size, executor)
        good = asyncio.ensure_future(made(engine, generator, Generation(GenerateRequest(seed_text="the ", length=12, seed=1))))
        bad = asyncio.ensure_future(made(engine, generator, Generation(GenerateRequest(seed_text="a", length=12, top_k=7))))
        await turn()
        while executor.queued:
            executor.run_next()
            await turn()
        later = asyncio.ensure_future(made(engine, generator, Generation(GenerateRequest(length=5, top_k=3))))
        await turn()
        while executor.queued:
            executor.run_next()
            await turn()
        return good, bad, await later, engine

    good, bad, later, engine = asyncio.run(scenario())
    assert isinstance(bad.exception(), RuntimeError) and len(good.result()[0]) == 12 and len(later[0]) == 5
    assert engine.active == [] and engine.pending == 0


def test_a_failure_while_the_batch_steps_answers_its_requests_and_the_next_ones_start_afresh(trained_runs,
                                                                                          monkeypatch):
    generator, failures = lstmkit.load(trained_runs["textgen"]), [1]
    real_step = generator.sampler.step

    def step(*args):  # fails once, in the middle of a running batch
        if failures:
            failures.pop()
            raise RuntimeError("out of memory")
        return real_step(*args)

    monkeypatch.setattr(generator.sampler, "step", step)

    async def scenario():
        executor = ByHand()
        engine = ContinuousGeneration(generator.sampler, generator.vocabulary.size, executor)
        first = [asyncio.ensure_future(made(engine, generator, Generation(GenerateRequest(length=20, num=2))))
                 for _ in range(2)]
        await turn()
        executor.run_next()  # they join; the first step fails
        await turn()
        assert all(isinstance(task.exception(), RuntimeError) for task in first) and engine.states is None
        later = asyncio.ensure_future(made(engine, generator, Generation(GenerateRequest(length=20, seed=4))))
        await turn()
        while executor.queued:
            executor.run_next()
            await turn()
        return await later, engine

    later, engine = asyncio.run(scenario())
    assert later == generator.sample("", 20, seed=4) and engine.pending == 0


def test_a_request_larger_than_the_batch_runs_alone_and_is_answered(trained_runs):
    """With batching off (`--max-batch 1`) a request for two samples still runs: an empty batch
    takes it whole."""
    generator = lstmkit.load(trained_runs["textgen"])

    async def scenario():
        executor = ByHand()
        engine = ContinuousGeneration(generator.sampler, generator.vocabulary.size, executor, max_rows=1)
        both = asyncio.ensure_future(made(engine, generator, Generation(GenerateRequest(length=5, num=2, seed=3))))
        one = asyncio.ensure_future(made(engine, generator, Generation(GenerateRequest(length=5, seed=3))))
        await turn()
        executor.run_next()  # the two samples run; the other request waits for room
        await turn()
        assert both.done() and not one.done() and [stream.rows for stream in engine.active] == []
        while executor.queued:
            executor.run_next()
            await turn()
        return await both, await one

    both, one = asyncio.run(scenario())
    assert both == generator.sample("", 5, num=2, seed=3) and one == generator.sample("", 5, seed=3)
