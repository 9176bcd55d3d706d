"""The HTTP service: trained runs loaded once (lstmkit.load), JSON endpoints, the page at /.

Model work runs on one model thread, never on the event loop; concurrent sentiment and generation
requests to a model are batched (batching.py). Errors are JSON {"error": one line}: 404 unknown
model, 413 body too large, 422 a field out of its bounds (named), 401 a missing or wrong API key,
503 (with Retry-After) a full queue. No input gives a 500.
"""

from __future__ import annotations

import asyncio
import gc
import hmac
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi_offline import FastAPIOffline

from .. import __version__
from ..api import load
from ..errors import LstmkitError
from ..sampling import small_ops_threads
from ..training.recipe import best_epoch
from ..training.run import RunDirectory
from . import schemas
from .batching import Batcher, Busy
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


class HTTPError(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


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
    _add_error_handlers(app)
    _add_guards(app, settings)
    service = _Service(models, settings)
    app.get("/healthz")(service.healthz)
    app.get("/v1/models")(service.list_models)
    app.post("/v1/sentiment")(service.sentiment)
    app.post("/v1/generate")(service.generate)
    app.post("/v1/translate")(service.translate)
    app.post("/v1/inspect")(service.inspect)
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
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="lstmkit-model")
        for model in models:
            model.batcher = _batcher_for(model, self.executor, settings)
            if model.task == "textgen":
                model.streams = ContinuousGeneration(model.predictor, self.executor, settings.max_batch,
                                                     settings.max_pending)

    async def on_model_thread(self, work, *args):
        return await asyncio.get_running_loop().run_in_executor(self.executor, work, *args)

    def model_for(self, task: str, name: str | None) -> Served:
        """The served model `name` of `task`, or the first of the task; else a 404."""
        model = (next((model for model in self.models if model.task == task), None) if name is None
                 else self.by_name.get(name))
        if model is None or model.task != task:
            raise HTTPError(404, f"model: no {task} model " + (f"named {name!r}" if name else "is served")
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
            results = await self.on_model_thread(lambda: [model.predictor.explain(text) for text in body.texts])
        else:
            results = await _until_disconnected(request, model.batcher.submit(body, len(body.texts)))
        return {"model": model.name, "results": results}

    async def generate(self, body: schemas.GenerateRequest, request: Request):
        model = self.model_for("textgen", body.model)
        work = _Generation(body)
        if not body.stream:
            samples = await _until_disconnected(request, model.streams.submit(work))
            return {"model": model.name, "samples": samples}
        model.streams.check_room(body.num)  # a 503 now: once streaming, the status is sent
        return StreamingResponse(_events(model, work), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    async def translate(self, body: schemas.TranslateRequest):
        model = self.model_for("translate", body.model)
        if body.attention and not model.predictor.config.attention:
            raise HTTPError(422, f"attention: model {model.name!r} has no attention")
        if body.attention and body.beam > 1:
            raise HTTPError(422, "attention: the weights come with greedy decoding; ask for beam 1")
        return {"model": model.name, "results": await self.on_model_thread(_translations, model.predictor, body)}

    async def inspect(self, body: schemas.InspectRequest):
        model = self.by_name.get(body.model) if body.model is not None else (self.models or [None])[0]
        if model is None:
            raise HTTPError(404, f"model: no model named {body.model!r}; /v1/models lists what is served")
        inspection = await self.on_model_thread(model.predictor.inspect, body.text)
        layers = [{"name": name, **{key: values.round(INSPECT_DIGITS).tolist() for key, values in layer.items()}}
                  for name, layer in zip(inspection.names, inspection.layers)]
        return {"model": model.name, "task": model.task, "tokens": inspection.tokens, "layers": layers}


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


async def _events(model: Served, work: _Generation):
    """Server-Sent Events: one `data` event per step ({"pieces": one per sample}), then `done`
    with the whole samples, or `error`."""
    task, piece = asyncio.ensure_future(model.streams.submit(work)), None
    try:
        while True:
            piece = asyncio.ensure_future(work.queue.get())
            await asyncio.wait({piece, task}, return_when=asyncio.FIRST_COMPLETED)
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
            else:
                yield f"event: done\ndata: {json.dumps({'model': model.name, 'samples': samples})}\n\n"
            return
    finally:  # the client went away: its job is marked cancelled
        for waiting in (task, piece):
            if waiting is not None:
                waiting.cancel()


async def _until_disconnected(request: Request, awaitable):
    """The awaitable's result; if the client disconnects first it is cancelled (the batcher then
    leaves the request out, or stops the batch's work when no caller is left)."""
    task = asyncio.ensure_future(awaitable)
    while True:
        done, _ = await asyncio.wait({task}, timeout=0.05)
        if done:
            return task.result()
        if await request.is_disconnected():
            task.cancel()
            raise HTTPError(499, "the client closed the request")


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPError)
    async def http_error(request, error: HTTPError):
        return JSONResponse({"error": error.message}, error.status, headers=error.headers)

    @app.exception_handler(Busy)
    async def busy(request, error: Busy):
        return JSONResponse({"error": f"busy: {error}; try again shortly"}, 503, headers={"Retry-After": "1"})

    @app.exception_handler(LstmkitError)
    async def bad_input(request, error: LstmkitError):
        return JSONResponse({"error": str(error)}, 422)

    @app.exception_handler(RequestValidationError)
    async def invalid(request, error: RequestValidationError):
        problems = [{"field": ".".join(str(part) for part in problem["loc"][1:]) or "body",
                     "problem": problem["msg"]} for problem in error.errors()]
        first = problems[0] if problems else {"field": "body", "problem": "invalid"}
        return JSONResponse({"error": f"{first['field']}: {first['problem']}", "problems": problems}, 422)


def _add_guards(app: FastAPI, settings: Settings) -> None:
    """The API key on /v1/, the body size limit, and CORS when asked for."""
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Content-Type", "Authorization", "X-API-Key"])
    if settings.api_key is not None:
        expected = settings.api_key.encode()

        @app.middleware("http")
        async def api_key(request: Request, call_next):
            if request.url.path.startswith("/v1/"):
                given = request.headers.get("x-api-key") or request.headers.get("authorization", "").removeprefix(
                    "Bearer ")
                if not hmac.compare_digest(given.encode(), expected):  # constant time
                    return JSONResponse({"error": "a valid API key is required (header X-API-Key)"}, 401,
                                        headers={"WWW-Authenticate": "Bearer"})
            return await call_next(request)

    app.add_middleware(_BodyLimit, limit=schemas.MAX_BODY_BYTES)


class _BodyLimit:
    """413 for a request body over `limit` bytes, by its Content-Length or as it arrives."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.limit:
            return await _too_large(scope, receive, send, self.limit)
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, _replay([message], receive), send)
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                return await _too_large(scope, receive, send, self.limit)
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)


def _replay(messages: list, receive):
    async def replayed():
        return messages.pop(0) if messages else await receive()

    return replayed


async def _too_large(scope, receive, send, limit: int):
    await JSONResponse({"error": f"request body over {limit:,} bytes"}, 413)(scope, receive, send)
