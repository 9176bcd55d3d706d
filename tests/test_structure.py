"""The shape of the source: no import cycles, and importing lstmkit changes no global state."""

import ast
import subprocess
import sys
from pathlib import Path

SOURCE = Path(__file__).parents[1] / "src" / "lstmkit"


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The lstmkit modules `path` imports at any depth of its code (lazy imports count too)."""
    name, found = module_name(path), set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            target = f"{base}.{node.module}" if node.level and node.module else (base if node.level else node.module)
            for alias in node.names:  # `from . import x` imports the module x when there is one
                found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {module for module in found if module in modules and module != name}


def import_graph() -> dict[str, set[str]]:
    paths = sorted(SOURCE.rglob("*.py"))
    modules = {module_name(path) for path in paths}
    return {module_name(path): imports_of(path, modules) for path in paths}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle found by a depth-first search (each reported from where the search met it)."""
    found, state = [], {}

    def visit(node, trail):
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                found.append(trail[trail.index(target):] + [target])
            elif target not in state:
                visit(target, trail + [target])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_no_import_cycles_in_the_source():
    graph = import_graph()  # every import: lazy ones inside functions, and those of a package's __init__
    assert len(graph) > 30 and "lstmkit.generation.search" in graph
    assert cycles(graph) == []


def test_the_cycle_finder_finds_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c", "a"]]


def test_importing_every_module_changes_no_global_state():
    program = """
import importlib, pkgutil, signal, sys
import torch, matplotlib
before = (matplotlib.get_backend(), torch.get_num_threads(), signal.getsignal(signal.SIGINT),
          signal.getsignal(signal.SIGTERM), torch.get_default_dtype())
import lstmkit
for module in pkgutil.walk_packages(lstmkit.__path__, "lstmkit."):
    if module.name != "lstmkit.__main__":
        importlib.import_module(module.name)
after = (matplotlib.get_backend(), torch.get_num_threads(), signal.getsignal(signal.SIGINT),
         signal.getsignal(signal.SIGTERM), torch.get_default_dtype())
print(before == after, before, after)
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.stdout.startswith("True"), done.stdout + done.stderr
