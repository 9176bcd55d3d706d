"""`POST /v1/generate`: text from a char model; requests join one running batch of streams
(generation/continuous.py), and a streaming request is answered as Server-Sent Events, one per step."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

from fastapi import Request
from fastapi.responses import StreamingResponse
from pydantic import Field

from ...errors import LstmkitError
from ...generation.continuous import ContinuousGeneration, Sequences
from ...generation.sampling import sampling_options
from ...futures import Busy
from ...serve.contract import Endpoint, TaskService
from ...serve.guards import deadline_error, internal_error, log
from ...serve.schemas import ModelName, StrictRequest, bounds, whole

MAX_SEED_CHARS = 1_000
MAX_LENGTH = 2_000  # characters generated per sample
MAX_NUM = 16  # samples per generation request


class GenerateRequest(StrictRequest):
    model: ModelName = None
    seed_text: str = Field("", max_length=MAX_SEED_CHARS, description="text to continue")
    length: whole(ge=1, le=MAX_LENGTH) = Field(200, description="characters per sample")
    temperature: float = Field(1.0, **bounds("temperature"), allow_inf_nan=False)
    top_k: whole(**bounds("top_k")) | None = Field(
        None, description="sample among the k likeliest characters")
    top_p: float | None = Field(None, **bounds("top_p"), allow_inf_nan=False,
                                description="sample among the likeliest characters holding this probability "
                                            "(the likeliest always)")
    num: whole(ge=1, le=MAX_NUM) = Field(1, description="samples")
    seed: whole(**bounds("seed")) | None = Field(None, description="seed of the random numbers: repeatable text")
    stream: bool = Field(False, description="answer as Server-Sent Events, one event per step")


@dataclass
class Generation:
    """A generation request on its way through generation/continuous.py: pieces of a streamed one
    go to `queue` as they are made."""
    body: GenerateRequest
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)

    def sequences(self, generator) -> Sequences:
        """What it asks of the engine: `num` rows from the seed text's ids; a streamed request's
        characters of each step go to its queue."""
        body, loop = self.body, asyncio.get_running_loop()
        on_step = None
        if body.stream:
            def send_pieces(tokens):  # on the model thread
                pieces = [generator.vocabulary.decode(token[None]) for token in tokens]
                loop.call_soon_threadsafe(self.queue.put_nowait, pieces)
            on_step = send_pieces
        options = sampling_options(temperature=body.temperature, top_k=body.top_k, top_p=body.top_p)
        prompt = generator.seed_ids(body.seed_text)[None].repeat(body.num, 1)
        return Sequences(prompt, body.length, options=options, seed=body.seed, on_step=on_step)


async def made(engine, generator, work: Generation) -> list[str]:
    """The request's samples, once the engine made them."""
    return [generator.vocabulary.decode(ids) for ids in await engine.submit(work.sequences(generator))]


async def generate(service, body: GenerateRequest, request: Request):
    model = service.model_for("textgen", body.model)
    work = Generation(body)
    if not body.stream:
        samples = await service.answer(request, made(model.engine, model.predictor, work))
        return {"model": model.name, "samples": samples}
    model.engine.check_room(body.num)  # a 503 now: once streaming, the status is sent
    return StreamingResponse(_events(model, work, service.timeout), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})


async def _events(model, work: Generation, timeout: float):
    """Server-Sent Events: one `data` event per step ({"pieces": one per sample}), then `done`
    with the whole samples, or `error` (also when the deadline passes: the work stops)."""
    loop = asyncio.get_running_loop()
    deadline, task, piece = loop.time() + timeout, asyncio.ensure_future(made(model.engine, model.predictor, work)), None
    try:
        while True:
            piece = asyncio.ensure_future(work.queue.get())
            await asyncio.wait({piece, task}, timeout=max(0.0, deadline - loop.time()),
                               return_when=asyncio.FIRST_COMPLETED)
            if not piece.done() and not task.done():
                yield f"event: error\ndata: {json.dumps({'error': deadline_error(timeout).message})}\n\n"
                return
            if piece.done():
                yield f"data: {json.dumps({'pieces': piece.result()})}\n\n"
                continue
            piece.cancel()
            while not work.queue.empty():  # pieces come before the result: drain them first
                yield f"data: {json.dumps({'pieces': work.queue.get_nowait()})}\n\n"
            try:
                samples = task.result()
            except (LstmkitError, Busy) as error:
                yield f"event: error\ndata: {json.dumps({'error': str(error)})}\n\n"
            except Exception as error:  # noqa: BLE001 - a bug: one line to the client, the traceback to the log
                log.error("POST /v1/generate failed", exc_info=error)
                yield f"event: error\ndata: {json.dumps({'error': internal_error(error)})}\n\n"
            else:
                yield f"event: done\ndata: {json.dumps({'model': model.name, 'samples': samples})}\n\n"
            return
    finally:  # the client went away: its job is marked cancelled
        for waiting in (task, piece):
            if waiting is not None:
                waiting.cancel()


def _start(model, executor, settings) -> ContinuousGeneration:
    generator = model.predictor
    return ContinuousGeneration(generator.sampler, generator.vocabulary.size, executor, settings.max_batch,
                                settings.max_pending)


def service() -> TaskService:
    return TaskService([Endpoint("/v1/generate", GenerateRequest, generate, streams=True)], start=_start)
