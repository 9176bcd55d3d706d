"""The HTTP service: trained runs loaded once (lstmkit.load), JSON endpoints, the page at /.

Model work runs on one model thread, never on the event loop; concurrent sentiment and generation
requests to a model are batched (batching.py). Errors are JSON {"error": one line} (guards.py): 400 a
body that is not JSON, 404 unknown model, 413 body too large, 422 a field out of its bounds
(named), 401 a missing or wrong API key, 503 (with Retry-After) a full queue, 504 a request not
done within the deadline, 500 a bug (its traceback logged; the server goes on). No input gives a 500.
"""

from __future__ import annotations

import asyncio
import gc
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from fastapi_offline import FastAPIOffline

from .. import __version__
from ..api import load
from ..errors import DataError, LstmkitError
from ..inspection import Inspection
from ..nn.lanes import small_ops_threads
from ..training.recipe import best_epoch
from ..training.run import RunDirectory
from . import contract, schemas
from .batching import Batcher, Busy
from .guards import HTTPError, add_error_handlers, add_guards, deadline_error, internal_error, log, within_deadline
from .streams import ContinuousGeneration

INSPECT_DIGITS = 4  # gate values are rounded to this many decimals in a response


@dataclass
class Served:
    """One run being served: its name in requests, task, predictor (lstmkit.load's) and what
    /v1/models tells of it."""
    name: str
    task: str
    predictor: Any
    summary: dict
    batcher: Batcher | None = None
    streams: ContinuousGeneration | None = None  # textgen: a request joins the running batch of streams


@dataclass
class Settings:
    api_key: str | None = None  # required on /v1/ when set (X-API-Key or Authorization: Bearer)
    cors_origins: list[str] = field(default_factory=list)  # browsers on these origins may call the API
    max_batch: int = 64  # texts in one batched call, samples in the running batch; 1: no batching
    batch_wait: float = 0.0  # seconds a batch waits for more; 0: those that came while the last one ran
    max_pending: int = 512  # items queued per model; more is a 503
    request_timeout: float = 60.0  # seconds: a request not done by then is answered 504 and its work stops


def load_models(run_dirs, device: str = "cpu") -> list[Served]:
    """Each run directory through lstmkit.load; a bad one raises RunError naming it (the CLI says
    it in one line and does not start). Names are the folders' names, made distinct."""
    served, names = [], set()
    for run_dir in run_dirs:
        predictor = load(run_dir, device)
        run = RunDirectory(run_dir)
        config = run.load_config()
        name, number = run.path.name or "model", 2
        while name in names:
            name, number = f"{run.path.name}-{number}", number + 1
        names.add(name)
        history = run.load_history()
        model = _model_of(predictor)
        summary = {"parameters": sum(p.numel() for p in model.parameters()), "epochs": len(history),
                   "best_epoch": best_epoch(history), "config": config["config"]}
        served.append(Served(name, config["task"], predictor, summary))
    return served


def _model_of(predictor):
    return predictor.members[0][0] if hasattr(predictor, "members") else predictor.model


def create_app(models: list[Served], settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPIOffline(title="lstmkit", version=__version__, summary="The LSTM lecture's three tasks over HTTP")
    add_error_handlers(app)
    add_guards(app, settings.api_key, settings.cors_origins, schemas.MAX_BODY_BYTES)
    service, key = _Service(models, settings), settings.api_key is not None
    queued, unqueued = contract.MODEL_WORK, tuple(status for status in contract.MODEL_WORK if status != 503)
    app.get("/healthz", responses=contract.responses((), api_key=False))(service.healthz)
    app.get("/v1/models", responses=contract.responses((), key))(service.list_models)
    app.post("/v1/sentiment", responses=contract.responses(queued, key))(service.sentiment)
    app.post("/v1/generate", responses=contract.responses(queued, key, streams=True))(service.generate)
    app.post("/v1/translate", responses=contract.responses(unqueued, key))(service.translate)
    app.post("/v1/inspect", responses=contract.responses(unqueued, key))(service.inspect)
    generated = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            contract.served_contract(generated(), models, key)  # in place: FastAPI keeps it
        return app.openapi_schema

    app.openapi = openapi
    app.get("/", include_in_schema=False)(_page)
    app.get("/static/{name}", include_in_schema=False)(_static_file)
    return app


def serving_app(models: list[Served], settings: Settings) -> FastAPI:
    """create_app for a server process: what start-up made (torch, the models, the app) is then
    frozen out of the garbage collector, whose full collections scanned it all, freed nothing and
    held every request for ~100 ms now and then (p99 spikes in bench/serve.py)."""
    app = create_app(models, settings)
    gc.collect()
    gc.freeze()
    return app


class _Service:
    """The endpoints: the models by name, and the one model thread all their work runs on (no two
    models fight for the cores)."""

    def __init__(self, models: list[Served], settings: Settings):
        self.models, self.by_name = models, {model.name: model for model in models}
        self.timeout = settings.request_timeout
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="lstmkit-model")
        for model in models:
            model.batcher = _batcher_for(model, self.executor, settings)
            if model.task == "textgen":
                model.streams = ContinuousGeneration(model.predictor, self.executor, settings.max_batch,
                                                     settings.max_pending)

    async def on_model_thread(self, work, *args):
        return await asyncio.get_running_loop().run_in_executor(self.executor, work, *args)

    async def answer(self, request: Request, awaitable):
        """The awaitable's result within the request's deadline (else 504, its work cancelled)."""
        return await within_deadline(request, awaitable, self.timeout)

    def model_for(self, task: str, name: str | None) -> Served:
        """The served model `name` of `task`, or the first of the task; else a 404."""
        model = (next((model for model in self.models if model.task == task), None) if name is None
                 else self.by_name.get(name))
        if model is None or model.task != task:
            raise HTTPError(404, f"model: no {task} model " + (f"named {name!r}" if name is not None else "is served")
                            + "; /v1/models lists what is served")
        return model

    async def healthz(self):
        return {"status": "ok", "models": len(self.models)}

    async def list_models(self):
        return {"models": [{"name": m.name, "task": m.task, **m.summary} for m in self.models]}

    async def sentiment(self, body: schemas.SentimentRequest, request: Request):
        model = self.model_for("sentiment", body.model)
        try:
            model.predictor.check(body.texts)
        except LstmkitError as error:
            raise HTTPError(422, f"texts: {error}") from None
        if body.explain:
            results = await self.answer(request, self._explanations(model.predictor, body.texts))
        else:
            results = await self.answer(request, model.batcher.submit(body, len(body.texts)))
        return {"model": model.name, "results": results}

    async def _explanations(self, classifier, texts: list[str]) -> list[dict]:
        # one text per turn of the model thread: a cancelled request stops after the text in hand
        return [await self.on_model_thread(classifier.explain, text) for text in texts]

    async def generate(self, body: schemas.GenerateRequest, request: Request):
        model = self.model_for("textgen", body.model)
        work = _Generation(body)
        if not body.stream:
            samples = await self.answer(request, model.streams.submit(work))
            return {"model": model.name, "samples": samples}
        model.streams.check_room(body.num)  # a 503 now: once streaming, the status is sent
        return StreamingResponse(_events(model, work, self.timeout), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    async def translate(self, body: schemas.TranslateRequest, request: Request):
        model = self.model_for("translate", body.model)
        if body.attention and not model.predictor.config.attention:
            raise HTTPError(422, f"attention: model {model.name!r} has no attention")
        if body.attention and body.beam > 1:
            raise HTTPError(422, "attention: the weights come with greedy decoding; ask for beam 1")
        results = await self.answer(request, self.on_model_thread(_translations, model.predictor, body))
        return {"model": model.name, "results": results}

    async def inspect(self, body: schemas.InspectRequest, request: Request):
        model = self.by_name.get(body.model) if body.model is not None else (self.models or [None])[0]
        if model is None:
            raise HTTPError(404, f"model: no model named {body.model!r}; /v1/models lists what is served")
        inspection = await self.answer(request, self.on_model_thread(_inspection, model.predictor, body.text))
        layers = [{"name": name, **{key: values.round(INSPECT_DIGITS).tolist() for key, values in layer.items()}}
                  for name, layer in zip(inspection.names, inspection.layers)]
        return {"model": model.name, "task": model.task, "tokens": inspection.tokens, "layers": layers}


def _inspection(predictor, text: str) -> Inspection:
    """predictor.inspect(text); a text of which the model reads nothing (no words after removing
    punctuation, for sentiment) has no steps to show: an empty inspection, as for any text."""
    try:
        return predictor.inspect(text)
    except DataError:
        return Inspection([], [], [])


def _translations(translator, body: schemas.TranslateRequest) -> list[dict]:
    output = translator.translate(body.sentences, language=body.language, beam=body.beam,
                                  keep_attention=body.attention)
    translations, maps = output if body.attention else (output, None)
    results = [{"sentence": s, "translation": t} for s, t in zip(body.sentences, translations)]
    for result, (source, target, weights) in zip(results, maps or ()):
        result["attention"] = {"source": source, "target": target,
                               "weights": weights.round(decimals=INSPECT_DIGITS).tolist()}
    return results


async def _page():
    return HTMLResponse(_static("index.html"))


async def _static_file(name: str):
    kind = {".js": "text/javascript", ".css": "text/css"}.get(Path(name).suffix)
    if kind is None or "/" in name or name.startswith("."):
        raise HTTPError(404, f"{name}: no such file")
    try:
        return Response(_static(name), media_type=kind)
    except FileNotFoundError:
        raise HTTPError(404, f"{name}: no such file") from None


def from_environment() -> FastAPI:
    """The app of one worker process of `lstmkit serve --workers N` (uvicorn imports it by name):
    the runs and settings come in the LSTMKIT_SERVE environment variable."""
    import os

    given = json.loads(os.environ["LSTMKIT_SERVE"])
    return serving_app(load_models(given["runs"], given["device"]), Settings(**given["settings"]))


def _static(name: str) -> str:
    return resources.files("lstmkit.serve").joinpath("static", name).read_text(encoding="utf-8")


@dataclass
class _Generation:
    """A generation request on its way through streams.py: pieces of a streamed one go to `queue`."""
    body: schemas.GenerateRequest
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)


def _batcher_for(model: Served, executor, settings: Settings) -> Batcher | None:
    if model.task != "sentiment":
        return None
    return Batcher(_sentiment_batch(model.predictor), executor, max_items=settings.max_batch, wait=settings.batch_wait,
                   max_pending=settings.max_pending)


def _sentiment_batch(classifier):
    units = max(config.units for _, _, config in classifier.members)

    def run(jobs):
        texts = [text for job in jobs for text in job.request.texts]
        with small_ops_threads(len(texts) * units):  # one thread leaves the event loop a core (bench/serve.py)
            probabilities = classifier.probabilities(texts)
        results, start = [], 0
        for job in jobs:
            count = len(job.request.texts)
            results.append(classifier.labelled(job.request.texts, probabilities[start: start + count]))
            start += count
        return results

    return run


async def _events(model: Served, work: _Generation, timeout: float):
    """Server-Sent Events: one `data` event per step ({"pieces": one per sample}), then `done`
    with the whole samples, or `error` (also when the deadline passes: the work stops)."""
    loop = asyncio.get_running_loop()
    deadline, task, piece = loop.time() + timeout, asyncio.ensure_future(model.streams.submit(work)), None
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
