"""What stands around the endpoints: the API key, the body size limit, CORS, the deadline of a
request, and every error as JSON {"error": one line} — a bug included (500, its traceback logged)."""

from __future__ import annotations

import asyncio
import hmac
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.exceptions import StarletteHTTPException as HTTPException  # the router's (404, 405), not FastAPI's
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from ..errors import LstmkitError
from ..futures import Busy

log = logging.getLogger("lstmkit.serve")


class HTTPError(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def internal_error(error: BaseException) -> str:
    """A bug's one line for its caller (the traceback goes to the server's log)."""
    said = str(error).strip().splitlines()
    return f"internal error: {type(error).__name__}" + (f": {said[0][:300]}" if said else "")


def deadline_error(seconds: float) -> HTTPError:
    return HTTPError(504, f"deadline: not done within the server's {seconds:g} s per request (lstmkit serve "
                          f"--request-timeout); ask for less, or try again when the server is less busy")


async def within_deadline(request: Request, awaitable, seconds: float):
    """The awaitable's result; if the deadline passes or the client disconnects first it is cancelled
    (its work is left out, or stops) and the request is answered 504 (or 499)."""
    loop = asyncio.get_running_loop()
    deadline, task = loop.time() + seconds, asyncio.ensure_future(awaitable)
    try:
        while True:
            if task.done():
                return task.result()
            left = deadline - loop.time()
            if left <= 0:
                raise deadline_error(seconds)
            await asyncio.wait({task}, timeout=min(0.05, left))
            if not task.done() and await request.is_disconnected():
                raise HTTPError(499, "the client closed the request")
    finally:
        task.cancel()  # no-op once done


def add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPError)
    async def http_error(request, error: HTTPError):
        return JSONResponse({"error": error.message}, error.status, headers=error.headers)

    @app.exception_handler(HTTPException)  # Starlette's: 400 unparseable body, 404 no such path, 405
    async def starlette_error(request, error: HTTPException):
        message = {400: "body: not JSON (send a JSON object with Content-Type: application/json)",
                   404: f"{request.url.path}: no such path; /docs lists the API"}.get(error.status_code, error.detail)
        return JSONResponse({"error": message}, error.status_code, headers=error.headers)

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


def add_guards(app: FastAPI, api_key: str | None, cors_origins: list[str], max_body_bytes: int) -> None:
    """The API key on /v1/, the body size limit, CORS when asked for, and a 500 for any bug."""
    if cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Content-Type", "Authorization", "X-API-Key"])
    if api_key is not None:
        expected = api_key.encode()

        @app.middleware("http")
        async def check_key(request: Request, call_next):
            if request.url.path.startswith("/v1/"):
                given = request.headers.get("x-api-key") or request.headers.get("authorization", "").removeprefix(
                    "Bearer ")
                if not hmac.compare_digest(given.encode(), expected):  # constant time
                    return JSONResponse({"error": "a valid API key is required (header X-API-Key)"}, 401,
                                        headers={"WWW-Authenticate": "Bearer"})
            return await call_next(request)

    app.add_middleware(_BodyLimit, limit=max_body_bytes)
    app.add_middleware(_Answered)  # the outermost: whatever fails inside is answered


class _Answered:
    """A request whose handling raised (a bug) is answered 500 with one line, and the traceback
    logged; a response already under way is ended. The server goes on."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def sending(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as error:  # noqa: BLE001 - a bug: its caller gets one line, the log the traceback
            log.error("%s %s failed", scope.get("method"), scope.get("path"), exc_info=error)
            if not started:
                await JSONResponse({"error": internal_error(error)}, 500)(scope, receive, send)


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
