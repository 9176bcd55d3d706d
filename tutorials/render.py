"""Runs the tutorials cell by cell and writes each as a Markdown page with its output and figures.

    .venv/bin/python tutorials/render.py OUT_DIR [--size small|full] [TUTORIAL.py ...]

A tutorial is a jupytext percent-format script, tutorials/NN_slug.py: prose in `# %% [markdown]`
cells, code in `# %%` cells. render() executes its code cells in order in one namespace, in this
process, with matplotlib's Agg backend and LSTMKIT_TUTORIAL_SIZE set; it captures each cell's
printed output and, after each cell, saves every open figure as OUT_DIR/<stem>-<k>.png and closes
it. OUT_DIR/<stem>.md holds the markdown cells as they are, each code cell as a python block
followed by its output in a plain block and its figures. The tutorials' runs (trained models) go
to LSTMKIT_TUTORIAL_OUT if it names a folder, else to a temporary folder removed afterwards:
never into OUT_DIR, whose every file belongs to the pages.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

TUTORIALS = Path(__file__).resolve().parent
SIZES = ("small", "full")  # small: seconds, on slices of the data; full: the lecture's sizes
SIZE_VARIABLE = "LSTMKIT_TUTORIAL_SIZE"
OUT_VARIABLE = "LSTMKIT_TUTORIAL_OUT"  # where a tutorial's runs go


@dataclass
class Rendered:
    """One rendered tutorial: the script, its page, the figures the page shows (in order), and the
    variables its cells left behind (for tests to check what it taught)."""

    path: Path
    markdown: Path
    figures: list[Path] = field(default_factory=list)
    namespace: dict = field(default_factory=dict, repr=False)
    seconds: float = 0.0  # the cells' wall time


class TutorialError(RuntimeError):
    """A cell of a tutorial raised: the message names the tutorial and the cell (1-based, counting
    every cell of the notebook, prose too)."""


def tutorials() -> list[Path]:
    """The tutorials, in order: tutorials/NN_slug.py (render.py and helpers are not tutorials)."""
    return sorted(TUTORIALS.glob("[0-9][0-9]_*.py"))


@contextlib.contextmanager
def _running(path: Path, size: str):
    """The size in the environment and the tutorial's folder on sys.path (for its helpers), as
    `python tutorials/NN_slug.py` has them; unless LSTMKIT_TUTORIAL_OUT names a folder, the runs go
    to a temporary one removed afterwards. All put back afterwards."""
    before, folder = {name: os.environ.get(name) for name in (SIZE_VARIABLE, OUT_VARIABLE)}, str(path.parent)
    with tempfile.TemporaryDirectory(prefix="lstmkit-tutorial-") as runs:
        os.environ[SIZE_VARIABLE] = size
        os.environ[OUT_VARIABLE] = before[OUT_VARIABLE] or runs
        sys.path.insert(0, folder)
        try:
            yield
        finally:
            sys.path.remove(folder)
            for name, value in before.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def render(path: Path, out_dir: Path, size: str = "small") -> Rendered:
    """Runs the tutorial at `path` and writes out_dir/<stem>.md and its figures -> Rendered.
    TutorialError (naming the tutorial and the cell) if a cell raises."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, got {size!r}")
    import jupytext
    import matplotlib

    matplotlib.use("Agg")  # figures are files here, never windows
    import matplotlib.pyplot as plt

    path, out_dir = Path(path).resolve(), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    notebook = jupytext.read(path, fmt="py:percent")
    namespace = {"__name__": "__main__", "__file__": str(path)}
    parts, figures = [], []
    plt.close("all")  # only the tutorial's own figures are captured
    started = time.perf_counter()
    with _running(path, size):
        for number, cell in enumerate(notebook.cells, 1):
            source = cell.source.strip("\n")
            if cell.cell_type == "markdown":
                parts.append(source)
                continue
            if cell.cell_type != "code" or not source.strip():
                continue
            printed = io.StringIO()
            try:
                code = compile(source, f"{path.name}, cell {number}", "exec")
                with contextlib.redirect_stdout(printed):
                    exec(code, namespace)
            except Exception as error:
                plt.close("all")
                raise TutorialError(f"{path.name}, cell {number}: {type(error).__name__}: {error}") from error
            parts.append(f"```python\n{source}\n```")
            if output := printed.getvalue().strip("\n"):
                parts.append(f"```\n{output}\n```")
            for figure_number in plt.get_fignums():
                file = out_dir / f"{path.stem}-{len(figures) + 1}.png"
                plt.figure(figure_number).savefig(file, dpi=100, bbox_inches="tight")
                plt.close(figure_number)
                figures.append(file)
                parts.append(f"![]({file.name})")
    seconds = time.perf_counter() - started
    markdown = out_dir / f"{path.stem}.md"
    markdown.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    return Rendered(path, markdown, figures, namespace, seconds)


def render_all(out_dir: Path, size: str = "small") -> list[Rendered]:
    """Every tutorial, in order, rendered into out_dir."""
    return [render(path, out_dir, size) for path in tutorials()]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="where the pages and figures go")
    parser.add_argument("--size", choices=SIZES, default="small")
    parser.add_argument("paths", nargs="*", type=Path, help="tutorials to render (default: all)")
    args = parser.parse_intermixed_args(argv)
    for path in args.paths or tutorials():
        rendered = render(path, args.out_dir, args.size)
        print(f"{rendered.markdown}: {len(rendered.figures)} figure(s), {rendered.seconds:.1f} s")


if __name__ == "__main__":
    main()
