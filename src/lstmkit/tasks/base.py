"""What a task is to the rest of lstmkit: one folder (a package) whose `__init__` declares `TASK`.

The Python API (`lstmkit.load`), the command line, the limits, the HTTP service and the web page read
the registry (tasks/__init__.py) and never name a task. A task brings:
- `load(runs, device)`: its predictor from trained run directories (several: an ensemble, when
  `ensemble` is true);
- `add_commands(verbs)`: its verbs under `lstmkit NAME` (train, evaluate, predict, ...), and
  `more_commands(commands)` any of its own beside `lstmkit NAME` (textgen's `lstmkit demo`);
- `limits`: the allowed range of each number its settings and requests take;
- `service()`: its HTTP endpoints (serve/contract.py's TaskService), made only when serving;
- `panel`: its part of the web page, two files in its folder: PANEL.html (a `<section>` whose id is
  the task's name) and PANEL.js (run after serve/static/app.js, whose helpers it uses).
Training goes through training/recipe.py's `run_training`, which a task's `train` calls with its
`prepare(config, run, resuming, device) -> Recipe` (a function of its training.py, the data bound
as keywords with functools.partial).

This module imports nothing heavy: the registry reads every task's declaration when the command
line starts, before torch loads.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from ..limits import Limit


@dataclass(frozen=True)
class Task:
    name: str  # config.json's "task", the command `lstmkit NAME`, the page's panel id
    title: str  # how people call it: the page's tab
    help: str  # one line: the command's help
    load: Callable[[list, str], Any]  # (run directories, device) -> the predictor
    add_commands: Callable[[Any], None]  # (argparse subparsers of `lstmkit NAME`) -> adds its verbs
    module: str  # the package that declared it (its folder), for its files
    limits: Mapping[str, Limit] = field(default_factory=dict)
    service: Callable[[], Any] | None = None  # -> serve.contract.TaskService; None: not served
    panel: str | None = None  # the page's panel: PANEL.html (a <section id=NAME>) and PANEL.js in the task's folder
    ensemble: bool = False  # load() averages several runs
    more_commands: Callable[[Any], None] | None = None  # (the subparsers of `lstmkit`) -> its commands there

    def panel_html(self) -> str:
        """The task's section of the web page."""
        return self._file(f"{self.panel}.html")

    def panel_script(self) -> str:
        """The script of the task's section."""
        return self._file(f"{self.panel}.js")

    def _file(self, name: str) -> str:
        return resources.files(self.module).joinpath(name).read_text(encoding="utf-8")


def lazy(module: str, name: str) -> Callable:
    """A function that imports `module` on its first call and calls its `name` (dotted for a class's
    method): a task's declaration stays light (no torch) while its work lives in modules loaded on use."""
    def call(*args, **kwargs):
        found = importlib.import_module(module)
        for part in name.split("."):
            found = getattr(found, part)
        return found(*args, **kwargs)

    call.__name__ = name
    return call


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A package's `__getattr__` that imports `exports[name]` (a module of the package) when `name`
    is first asked for: `from lstmkit.tasks.textgen import CharModel` works without making
    `import lstmkit.tasks.textgen` load torch."""
    def __getattr__(name: str):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{exports[name]}"), name)

    return __getattr__
