"""Modules that are imported only where a feature uses them, behind need(): a missing one is one
line that says which feature needs it and what to install, not a traceback (and it is asked for
before training starts, not after the first epoch). pyproject.toml is the one list of what the
package depends on; the extra a module comes with is read from the installed package's metadata."""

from __future__ import annotations

import importlib
import re
from importlib import metadata
from types import ModuleType

from .errors import MissingDependency


def need(module: str, feature: str) -> ModuleType:
    """import_module(module) -> the module, or MissingDependency "FEATURE needs DIST; pip install ..."
    (the extra that declares DIST, or DIST's pinned requirement when it is a base dependency)."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        if error.name is None or error.name.split(".")[0] != module.split(".")[0]:
            raise  # the module is there and something it imports is not: not ours to explain
        distribution = module.split(".")[0]
        raise MissingDependency(f"{feature} needs {distribution}; pip install {_install_hint(distribution)}") from None


def need_all(*needs: tuple[str, str]) -> None:
    """need() each (module, feature): for a command to fail at its start, not halfway."""
    for module, feature in needs:
        need(module, feature)


def requirements() -> dict[str | None, dict[str, str]]:
    """The installed lstmkit's declared dependencies: {None: base, extra: ...}, each {name (lower
    case): requirement as declared, such as "gensim==4.4.0"}."""
    declared: dict[str | None, dict[str, str]] = {None: {}}
    for line in metadata.requires("lstmkit") or []:
        requirement = line.split(";")[0].strip()
        name = re.match(r"[A-Za-z0-9._-]+", requirement).group(0).lower().replace("_", "-")
        extra = re.search(r"""extra\s*==\s*["']([^"']+)["']""", line)
        declared.setdefault(extra.group(1) if extra else None, {})[name] = requirement
    return declared


def _install_hint(distribution: str) -> str:
    name = distribution.lower().replace("_", "-")
    try:
        declared = requirements()
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return name
    if name in declared[None]:
        return f"'{declared[None][name]}'"
    extra = next((extra for extra, names in declared.items() if extra and extra != "dev" and name in names), None)
    return f"'lstmkit[{extra}]'" if extra else name
