"""The tasks lstmkit knows, each one folder here whose `__init__` declares `TASK` (tasks/base.py).

More tasks come from the folders inside each directory named in LSTMKIT_TASK_PATH (separated by
the system's path separator, as PATH): a task of your own is one folder there, imported as
`lstmkit.tasks.<folder>`, and it is trained, loaded, on the command line and served as the built-in
ones are.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from functools import cache

from ..errors import RunError
from .base import Task

TASK_PATH_VARIABLE = "LSTMKIT_TASK_PATH"


@cache
def registry() -> dict[str, Task]:
    """Every task by name: the built-in ones, then those of LSTMKIT_TASK_PATH, in folder order."""
    for directory in os.environ.get(TASK_PATH_VARIABLE, "").split(os.pathsep):
        if directory and directory not in __path__:
            __path__.append(directory)
    tasks = {}
    for folder in sorted(pkgutil.iter_modules(__path__), key=lambda module: module.name):
        if not folder.ispkg:
            continue
        declaration = os.path.join(folder.module_finder.path, folder.name, "__init__.py")
        try:
            task = getattr(importlib.import_module(f"{__name__}.{folder.name}"), "TASK", None)
        except Exception as error:  # a task of one's own with a mistake: said in one line, naming its file
            raise RunError(f"{declaration}: cannot be imported: {type(error).__name__}: {error}") from error
        if not isinstance(task, Task):
            raise RunError(f"{declaration}: a task's folder declares TASK = lstmkit.tasks.base.Task(...); "
                           f"this one does not")
        if task.name in tasks:
            raise RunError(f"{folder.module_finder.path}/{folder.name}: a second task named {task.name!r}")
        tasks[task.name] = task
    return tasks


def task_named(name: str, where: str = "") -> Task:
    """The task `name`; RunError naming `where` (a run's config.json) and the tasks known when there is none."""
    tasks = registry()
    if name not in tasks:
        raise RunError(f"{where + ': ' if where else ''}names the task {name!r}; this lstmkit knows "
                       f"{', '.join(tasks)} (more with {TASK_PATH_VARIABLE})")
    return tasks[name]
