"""The HTTP service: trained runs loaded once (lstmkit.load), JSON endpoints, the page at /.

Each task's service (its `service()`: serve/contract.py's TaskService) brings its endpoints and what
it starts for each served model; /v1/models, /v1/inspect and the page are everyone's. Model work runs
on one model thread, never on the event loop; concurrent requests to a model are batched where the
task does so (batching.py). Errors are JSON {"error": one line} (guards.py): 400 a body that is not
JSON, 404 unknown model, 413 body too large, 422 a field out of its bounds (named), 401 a missing or
wrong API key, 503 (with Retry-After) a full queue, 504 a request not done within the deadline, 500 a
bug (its traceback logged; the server goes on). No input gives a 500.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi_offline import FastAPIOffline

from ..api import load
from ..catalogue import located
from ..errors import DataError
from ..inspection import Inspection
from ..tasks import registry
from ..training.recipe import best_epoch
from ..training.run import RunDirectory
from ..version import __version__
from . import contract, schemas
from .guards import HTTPError, add_error_handlers, add_guards, within_deadline


@dataclass
class Served:
    """One run being served: its name in requests, task, predictor (lstmkit.load's) and what
    /v1/models tells of it."""
    name: str
    task: str
    predictor: Any
    summary: dict
    engine: Any = None  # what the task's service started for it: a Batcher, the running batch of streams


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
    for run_dir in map(located, run_dirs):
        predictor = load(run_dir, device)
        run = RunDirectory(run_dir)
        config = run.load_config()
        name, number = run.path.name or "model", 2
        while name in names:
            name, number = f"{run.path.name}-{number}", number + 1
        names.add(name)
        history = run.load_history()
        summary = {"parameters": predictor.parameter_count(), "epochs": len(history),
                   "best_epoch": best_epoch(history), "config": config["config"]}
        served.append(Served(name, config["task"], predictor, summary))
    return served


def create_app(models: list[Served], settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPIOffline(title="lstmkit", version=__version__, summary="The LSTM lecture's tasks over HTTP")
    add_error_handlers(app)
    add_guards(app, settings.api_key, settings.cors_origins, schemas.MAX_BODY_BYTES)
    service, key = Service(models, settings), settings.api_key is not None
    app.get("/healthz", responses=contract.responses((), api_key=False))(service.healthz)
    app.get("/v1/models", responses=contract.responses((), key))(service.list_models)
    for task_service in service.services.values():
        for endpoint in task_service.endpoints:
            app.post(endpoint.path, responses=contract.responses(endpoint.statuses, key, streams=endpoint.streams))(
                _route(service, endpoint))
    app.post("/v1/inspect", responses=contract.responses(contract.UNQUEUED_WORK, key))(service.inspect)
    generated = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            contract.served_contract(generated(), models, key, service.services)  # in place: FastAPI keeps it
        return app.openapi_schema

    app.openapi = openapi
    app.get("/", include_in_schema=False)(_page)
    app.get("/static/{name}", include_in_schema=False)(_static_file)
    app.get("/static/tasks/{name}", include_in_schema=False)(_task_script)
    return app


def _route(service: "Service", endpoint: contract.Endpoint):
    """The endpoint's handler as FastAPI calls it: its body typed by the endpoint's schema (which
    FastAPI validates and documents), with the server's Service passed on."""
    async def handle(body, request: Request):
        return await endpoint.handle(service, body, request)

    handle.__signature__ = inspect.Signature([
        inspect.Parameter("body", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=endpoint.schema),
        inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)])
    handle.__name__ = endpoint.path.rsplit("/", 1)[-1]
    return handle


def serving_app(models: list[Served], settings: Settings) -> FastAPI:
    """create_app for a server process: what start-up made (torch, the models, the app) is then
    frozen out of the garbage collector, whose full collections scanned it all, freed nothing and
    held every request for ~100 ms now and then (p99 spikes in bench/serve.py)."""
    app = create_app(models, settings)
    gc.collect()
    gc.freeze()
    return app


class Service:
    """What every endpoint uses: the models by name, the one model thread all their work runs on (no
    two models fight for the cores), and the deadline. Each served task's service starts its engine
    for each of its models (Served.engine)."""

    def __init__(self, models: list[Served], settings: Settings):
        self.models, self.by_name = models, {model.name: model for model in models}
        self.timeout = settings.request_timeout
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="lstmkit-model")
        self.services = {name: task.service() for name, task in registry().items() if task.service is not None}
        for model in models:
            start = self.services[model.task].start if model.task in self.services else None
            model.engine = start(model, self.executor, settings) if start is not None else None

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

    async def inspect(self, body: schemas.InspectRequest, request: Request):
        model = self.by_name.get(body.model) if body.model is not None else (self.models or [None])[0]
        if model is None:
            raise HTTPError(404, f"model: no model named {body.model!r}; /v1/models lists what is served")
        inspection = await self.answer(request, self.on_model_thread(_inspection, model.predictor, body.text))
        digits = schemas.INSPECT_DIGITS
        layers = [{"name": name, **{key: values.round(digits).tolist() for key, values in layer.items()}}
                  for name, layer in zip(inspection.names, inspection.layers)]
        return {"model": model.name, "task": model.task, "tokens": inspection.tokens, "layers": layers}


def _inspection(predictor, text: str) -> Inspection:
    """predictor.inspect(text); a text of which the model reads nothing (no words after removing
    punctuation, for sentiment) has no steps to show: an empty inspection, as for any text."""
    try:
        return predictor.inspect(text)
    except DataError:
        return Inspection([], [], [])


async def _page():
    """index.html with each task's tab and panel (tasks/base.py: Task.panel) and its script."""
    tasks = [task for task in registry().values() if task.panel is not None]
    tabs = "\n".join(f'  <button role="tab" id="tab-{task.name}" aria-controls="{task.name}" aria-selected="false">'
                     f'{task.title}</button>' for task in tasks)
    scripts = "\n".join(f'<script src="/static/tasks/{task.name}.js"></script>' for task in tasks)
    return HTMLResponse(_static("index.html").replace("<!-- tabs -->", tabs)
                        .replace("<!-- panels -->", "\n".join(task.panel_html() for task in tasks))
                        .replace("<!-- scripts -->", scripts))


async def _task_script(name: str):
    """A task's panel script: panel.js in its folder."""
    task = registry().get(name.removesuffix(".js")) if name.endswith(".js") else None
    if task is None or task.panel is None:
        raise HTTPError(404, f"{name}: no such file")
    return Response(task.panel_script(), media_type="text/javascript")


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
