"""`lstmkit serve RUN [RUN ...]`: the runs behind the HTTP API and the web page (lstmkit/serve/)."""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import signal
import socket

from .. import catalogue
from ..errors import RunError, SettingsError
from ..limits import flag_type
from .options import add_common, examples

API_KEY_VARIABLE = "LSTMKIT_API_KEY"  # the key from the environment: not visible in `ps` as a flag is


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _serve(args) -> None:
    import uvicorn

    from ..serve.app import Settings, load_models, serving_app

    api_key = args.api_key or os.environ.get(API_KEY_VARIABLE) or None
    if not is_loopback(args.host) and api_key is None:
        raise SettingsError("api_key", f"is required to serve on {args.host}, which is not a loopback address: give "
                                       f"--api-key KEY (or set {API_KEY_VARIABLE}), or serve on 127.0.0.1")
    settings = Settings(api_key=api_key, cors_origins=args.cors_origin,
                        max_batch=args.max_batch, max_pending=args.max_pending, request_timeout=args.request_timeout)
    args.runs = args.runs or default_runs()
    models = load_models(args.runs, args.device)  # a bad run stops the start with one line
    listening = _listen(args.host, args.port)
    # connections accepted from it inherit this: without it a keep-alive client waited ~40 ms a response
    listening.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    host, port = listening.getsockname()[:2]
    print(f"lstmkit: serving {', '.join(f'{m.name} ({m.task})' for m in models)} on http://"
          f"{f'[{host}]' if ':' in host else host}:{port}/ (Ctrl-C stops)", flush=True)
    previous = {signum: signal.signal(signum, lambda *_: None) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:  # uvicorn finishes in-flight requests on SIGINT/SIGTERM, then passes the signal on: here, to nothing
        if args.workers > 1:
            os.environ["LSTMKIT_SERVE"] = _worker_settings(args, settings)
            uvicorn.run("lstmkit.serve.app:from_environment", factory=True, fd=listening.fileno(),
                        workers=args.workers, **SERVER_OPTIONS)
        else:
            uvicorn.Server(server_config(serving_app(models, settings))).run(sockets=[listening])
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        listening.close()


# uvicorn picks httptools and uvloop (base dependencies) by itself: "auto" falls back to h11 and
# asyncio's loop where they are missing, as uvloop is on Windows
SERVER_OPTIONS = {"log_level": "warning", "timeout_graceful_shutdown": 30, "http": "auto", "loop": "auto"}


def server_config(app):
    """The uvicorn configuration of a one-process server of `app`."""
    import uvicorn

    return uvicorn.Config(app, **SERVER_OPTIONS)


def default_runs() -> list[str]:
    """The installed catalogue's default model of each task: what `lstmkit serve` serves given no run."""
    names = [model.name for model in catalogue.defaults()]
    if not names:
        raise RunError("no RUN given and no trained models installed; give run directories to serve, or "
                       "install the catalogue: pip install lstmkit-models")
    return names


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket; a port already taken, or one that needs root, says what to do."""
    try:
        return socket.create_server((host, port), family=_family(host))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise SettingsError("port", f"{port} is in use on {host} (another lstmkit serve?): give another "
                                        f"--port, or --port 0 for any free one") from None
        if error.errno == errno.EACCES:
            raise SettingsError("port", f"{port} needs root on this system: give a port above 1023") from None
        raise SettingsError("host", f"{host}:{port} cannot be listened on ({os.strerror(error.errno)}); expected an "
                                    f"address of this machine, such as 127.0.0.1") from None


def _family(host: str):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _worker_settings(args, settings) -> str:
    import dataclasses

    return json.dumps({"runs": [str(run) for run in args.runs], "device": args.device,
                       "settings": dataclasses.asdict(settings)})


def add(commands) -> None:
    serve = commands.add_parser("serve", help="serve trained runs over HTTP: a JSON API and a web page",
                                epilog=examples(("lstmkit serve", "the installed models; the page at http://127.0.0.1:8000/"),
                                                ("lstmkit serve runs/imdb nietzsche-fast --port 8080",
                                                 "your run beside an installed model")))
    serve.add_argument("runs", nargs="*", metavar="RUN",
                       help="run directories (any task) or installed models' names to serve (default: the "
                            "installed models' default of each task, `lstmkit models`)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1; another address needs --api-key)")
    serve.add_argument("--port", type=flag_type("port"), default=8000, help="default 8000; 0: any free port")
    serve.add_argument("--api-key", metavar="KEY", help=f"required on /v1/ requests (header X-API-Key); also "
                                                        f"read from {API_KEY_VARIABLE}")
    serve.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                       help="let pages of this origin call the API (repeat for more; default none)")
    serve.add_argument("--workers", type=flag_type("workers"), default=1,
                       help="server processes behind the one port (each loads the models)")
    serve.add_argument("--max-batch", type=flag_type("max_batch"), default=64,
                       help="texts or samples batched into one model call (1: no batching)")
    serve.add_argument("--max-pending", type=flag_type("max_pending"), default=512,
                       help="items waiting per model before requests get 503")
    serve.add_argument("--request-timeout", type=flag_type("request_timeout"), default=60.0, metavar="SECONDS",
                       help="a request not done by then is answered 504 and its work stops (default 60)")
    add_common(serve)
    serve.set_defaults(handler=_serve)
