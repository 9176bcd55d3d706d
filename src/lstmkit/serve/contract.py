"""The OpenAPI document the server serves says what it does: every status an endpoint can answer,
with the error body, and what the served models accept (a translation run's languages, whether it
has attention), so that a request the schema accepts is one the server answers 200."""

from __future__ import annotations

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


def served_contract(document: dict, models, api_key: bool) -> dict:
    """The generated OpenAPI document, with the API key's scheme and the served translation
    runs' languages and attention."""
    if api_key:
        document.setdefault("components", {}).setdefault("securitySchemes", {})["APIKey"] = {
            "type": "apiKey", "in": "header", "name": "X-API-Key",
            "description": "or Authorization: Bearer KEY"}
        for path, operations in document["paths"].items():
            if path.startswith("/v1/"):
                for operation in operations.values():
                    operation["security"] = [{"APIKey": []}]
    translators = [model for model in models if model.task == "translate"]
    request = document.get("components", {}).get("schemas", {}).get("TranslateRequest")
    if translators and request is not None:
        request["anyOf"] = [_translator(model, first=number == 0) for number, model in enumerate(translators)]
    return document


def _translator(model, first: bool) -> dict:
    """What one translation run accepts: its name (the first also by default), its languages, and
    attention only if it has it, with beam 1."""
    named = {"properties": {"model": {"enum": [model.name]}}, "required": ["model"]}
    chosen = {"anyOf": [named, {"not": {"required": ["model"]}}, {"properties": {"model": {"type": "null"}}}]
              } if first else named
    languages = {"properties": {"language": {"anyOf": [{"type": "null"}, {"enum": ["", *model.predictor.targets]}]}}}
    greedy_if_attention = {"anyOf": [{"properties": {"attention": {"const": False}}},
                                     {"properties": {"beam": {"const": 1}}}]}
    attention = greedy_if_attention if model.predictor.config.attention else {
        "properties": {"attention": {"const": False}}}
    return {"allOf": [chosen, languages, attention]}
