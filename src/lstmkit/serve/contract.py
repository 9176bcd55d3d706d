"""What a task's service declares (`TaskService`: its endpoints, what it starts for each served
model, what it adds to the OpenAPI document), and the document the server serves: every status an
endpoint can answer, with the error body, and what the served models accept, so that a request the
schema accepts is one the server answers 200."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

ERRORS = {
    400: "the body is not JSON",
    401: "a missing or wrong API key",
    404: "no such model is served",
    413: "the body is over the size limit",
    422: "a field out of its bounds (named), or something the model cannot do",
    500: "a bug: its traceback is in the server's log; the server goes on",
    503: "the model's queue is full: try again after Retry-After seconds",
    504: "not done within the server's deadline (lstmkit serve --request-timeout); its work stopped",
}
EVENT = {  # one Server-Sent Event (Open API 3.1: the schema of a stream describes each event)
    "type": "object", "required": ["event", "data"],
    "properties": {"event": {"enum": ["message", "done", "error"],
                             "description": 'message: one step, {"pieces": a piece per sample}; done: '
                                            '{"model", "samples"}, the last; error: {"error": one line}, the last'},
                   "data": {"type": "string", "description": "JSON"}}}
MODEL_WORK = (400, 404, 413, 422, 500, 503, 504)  # what an endpoint running a model can answer
UNQUEUED_WORK = tuple(status for status in MODEL_WORK if status != 503)  # one that does not queue its work


@dataclass(frozen=True)
class Endpoint:
    """POST `path`: `handle(service, body, request)` answers a valid `body` (of the `schema` type).
    `service` is the server's (serve/app.py's Service): the served models, the model thread, deadlines."""
    path: str
    schema: type[BaseModel]
    handle: Callable[[Any, BaseModel, Any], Awaitable[Any]]
    statuses: tuple[int, ...] = MODEL_WORK  # the errors it can answer
    streams: bool = False  # it may answer Server-Sent Events


@dataclass(frozen=True)
class TaskService:
    """A task's part of the server."""
    endpoints: list[Endpoint]
    # (served model, the model thread's executor, the server's Settings) -> what its endpoints use (Served.engine)
    start: Callable[[Any, Any, Any], Any] | None = None
    # (the OpenAPI document, the served models of the task) -> the document, with what they accept
    document: Callable[[dict, list], None] | None = None


class Problem(BaseModel):
    field: str = Field(description="the field, dotted: texts.0")
    problem: str


class ErrorBody(BaseModel):
    error: str = Field(description="what was wrong, in one line")
    problems: list[Problem] | None = Field(None, description="422 for fields: every field that is wrong")


def responses(statuses, api_key: bool, streams: bool = False) -> dict:
    """FastAPI's `responses` of an endpoint: its error statuses (401 too where a key is asked)."""
    documented = {status: {"model": ErrorBody, "description": ERRORS[status]}
                  for status in sorted({*statuses, 413, 500, *((401,) if api_key else ())})}
    if 503 in documented:
        documented[503]["headers"] = {"Retry-After": {"description": "seconds", "schema": {"type": "integer"}}}
    if streams:  # "stream": true answers Server-Sent Events
        documented[200] = {"content": {"text/event-stream": {"schema": EVENT}}}
    return documented


def served_contract(document: dict, models, api_key: bool, services: dict[str, TaskService]) -> dict:
    """The generated OpenAPI document, with the API key's scheme and what each task's service adds
    for its served models."""
    if api_key:
        document.setdefault("components", {}).setdefault("securitySchemes", {})["APIKey"] = {
            "type": "apiKey", "in": "header", "name": "X-API-Key",
            "description": "or Authorization: Bearer KEY"}
        for path, operations in document["paths"].items():
            if path.startswith("/v1/"):
                for operation in operations.values():
                    operation["security"] = [{"APIKey": []}]
    for task, service in services.items():
        if service.document is not None:
            service.document(document, [model for model in models if model.task == task])
    return document
