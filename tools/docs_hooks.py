"""mkdocs hooks (mkdocs.yml `hooks:`): the pages the site makes at build time, never committed.

- reference/cli.md: every `lstmkit ...` command and subcommand with its options, walked from the real
  parser (lstmkit.cli.build_parser), so a new flag or task is documented by the next build;
- the Tutorials section: the pages tutorials/render.py renders from tutorials/*.py, or those already
  rendered in the folder LSTMKIT_TUTORIALS_RENDERED names (the tests render them once for everything);
- a link into the repository's tutorials/ (the folder, or a tutorial's script) goes to its rendered page;
- the settings tables of reference/configs.md: a `<!-- settings: module -->` line becomes the table of
  that module's config, made from each setting's declaration (lstmkit.settings.setting).

Here and not under docs/: mkdocs publishes every file of docs/ with the site, a hook file included.
"""

from __future__ import annotations

import argparse
import dataclasses
import html
import importlib
import importlib.util
import os
import re
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
RENDERED = "LSTMKIT_TUTORIALS_RENDERED"
TUTORIALS = "Tutorials"  # the nav section the tutorials go into
USAGE_WIDTH = "96"  # argparse wraps usage lines at $COLUMNS: fixed, so the page is the same on every terminal

_rendered: Path | None = None  # this build's rendered tutorials
_temporary: Path | None = None  # the folder render_all wrote into when this build rendered them


# ---- tutorials ---------------------------------------------------------------------------------------

def _render_tutorials() -> Path:
    """The folder of rendered tutorials: LSTMKIT_TUTORIALS_RENDERED's, else render_all into a new one."""
    global _temporary
    named = os.environ.get(RENDERED)
    if named:
        folder = Path(named)
        if not folder.is_dir():
            raise PluginError(f"{RENDERED}={named} is not a folder (of tutorials rendered by tutorials/render.py)")
        return folder
    renderer = ROOT / "tutorials" / "render.py"
    if not renderer.is_file():
        raise PluginError(f"the Tutorials section is rendered by {renderer.relative_to(ROOT)}, which is missing "
                          f"(or set {RENDERED} to a folder of rendered tutorials)")
    for path in (ROOT / "tutorials", ROOT):  # the renderer may import its neighbours or `tutorials.x`
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    spec = importlib.util.spec_from_file_location("lstmkit_tutorials_render", renderer)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    _temporary = Path(tempfile.mkdtemp(prefix="lstmkit-tutorials-"))
    rendered = module.render_all(_temporary)
    return Path(rendered[0].markdown).parent if rendered else _temporary


def _tutorial_pages(folder: Path) -> list[Path]:
    pages = sorted(path for path in folder.glob("*.md") if path.name != "index.md")
    if not pages:
        raise PluginError(f"no rendered tutorials (*.md) in {folder}" if _temporary is None else
                          "tutorials/render.py rendered no tutorial (tutorials/NN_slug.py)")
    return pages


def _title(page: Path) -> str:
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return page.stem.replace("_", " ")


def _tutorials_index(pages: list[Path]) -> str:
    rows = "\n".join(f"| {number} | [{_title(page)}]({page.name}) |" for number, page in enumerate(pages, 1))
    return ("# Tutorials\n\n"
            "Each tutorial is a script in `tutorials/` (jupytext's percent format: open it as a notebook, or "
            "run it with `python`); these pages are those scripts run, with their output and figures, on "
            "small data so that they finish in seconds.\n\n"
            f"| | tutorial |\n|---|---|\n{rows}\n")


def _fill_nav(nav: list, entries: list[str]) -> bool:
    for index, item in enumerate(nav):
        if isinstance(item, dict) and TUTORIALS in item:
            nav[index] = {TUTORIALS: entries}
            return True
    return False


# ---- the command line ----------------------------------------------------------------------------------

def _cell(text: str) -> str:
    """Plain text as a Markdown table cell: no HTML, no emphasis, no column breaks."""
    text = html.escape(" ".join(str(text).split()), quote=False)
    return re.sub(r"([\\`*_\[\]|])", r"\\\1", text)


def _code(text: str) -> str:
    """Text as inline code in a table cell (a | inside code still splits a cell: as an entity it does not)."""
    return "<code>" + html.escape(text).replace("|", "&#124;") + "</code>"


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser, str]]:
    """(name, parser, help) of each subcommand, in the order the parser lists them."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            found += [(name, sub, helps.get(name, "")) for name, sub in action.choices.items()]
    return found


def walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ("lstmkit",), help: str = ""):
    """(path, parser, help) of the command and of every subcommand below it, depth first."""
    yield path, parser, help
    for name, sub, sub_help in _subcommands(parser):
        yield from walk(sub, (*path, name), sub_help)


def _anchor(path: tuple[str, ...]) -> str:
    return "-".join(path)


def _argument_rows(parser: argparse.ArgumentParser) -> list[str]:
    formatter = parser._get_formatter()
    rows = []
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or isinstance(action, (argparse._HelpAction,
                                                                   argparse._SubParsersAction)):
            continue
        if action.option_strings:
            metavar = formatter._format_args(action, action.dest.upper()) if action.nargs != 0 else ""
            name = ", ".join(action.option_strings) + (f" {metavar}" if metavar else "")
        else:
            name = formatter._metavar_formatter(action, action.dest)(1)[0]
            name += " ..." if action.nargs in ("*", "+", argparse.REMAINDER) else ""
        try:
            said = formatter._expand_help(action) if action.help else ""
        except (KeyError, TypeError, ValueError):
            said = action.help or ""
        notes = []
        if action.required and action.option_strings:
            notes.append("required")
        if action.choices is not None and action.metavar is not None \
                and not all(str(choice) in said for choice in action.choices):  # choices hidden behind a metavar
            notes.append("one of " + ", ".join(map(str, action.choices)))
        if action.default not in (None, False, argparse.SUPPRESS, []) and action.nargs != 0 \
                and "default" not in said:
            notes.append(f"default {action.default}")
        text = _cell(said) + "".join(f" *({_cell(note)})*" for note in notes)
        rows.append(f"| {_code(name)} | {text} |")
    return rows


def cli_reference() -> str:
    """The Markdown of reference/cli.md, from the parser `lstmkit` runs."""
    from lstmkit.cli import build_parser

    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = USAGE_WIDTH
    try:
        parser = build_parser()
        lines = ["# Command line", "",
                 "Every `lstmkit` command with its options, as `lstmkit COMMAND --help` prints them (this page is "
                 "made from the command's own parser when the site is built). Errors are one line on stderr with "
                 "exit code 2 for bad arguments or input, 1 for anything else; `--debug` shows the traceback.", ""]
        for path, sub, help in walk(parser):
            level = "#" * max(2, min(len(path), 4))  # lstmkit and its commands, then their verbs
            lines += [f"{level} {' '.join(path)} {{#{_anchor(path)}}}", ""]
            for said in dict.fromkeys((help, sub.description)):  # the parent's one line, then its own
                if said:
                    lines += [_cell(said), ""]
            usage = sub.format_usage().strip()
            lines += ["```text", usage, "```", ""]
            if sub.epilog:  # the examples --help ends with
                first, _, rest = sub.epilog.strip().partition("\n")
                if first.rstrip(":").lower() == "examples" and rest:
                    lines += ["Examples:", "", "```bash", textwrap.dedent(rest), "```", ""]
                else:
                    lines += ["```text", sub.epilog.strip(), "```", ""]
            children = _subcommands(sub)
            if children:
                lines += ["| command | what it does |", "|---|---|"]
                lines += [f"| [{' '.join((*path, name))}](#{_anchor((*path, name))}) | {_cell(child_help)} |"
                          for name, _, child_help in children]
                lines.append("")
            rows = _argument_rows(sub)
            if rows:
                lines += ["| argument | meaning |", "|---|---|", *rows, ""]
        return "\n".join(lines)
    finally:
        if saved is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved


# ---- the settings of a task's config -----------------------------------------------------------------

SETTINGS = re.compile(r"^<!-- settings: ([\w.]+) -->$", re.MULTILINE)


def _value(value) -> str:
    return "—" if value is None else _code(repr(value))


def settings_table(module_name: str) -> str:
    """A module's config (its PRESETS' class, else its TrainingConfig) as a table: each setting with its
    flag, default, allowed values, meaning and the presets that change it. A task's config lists the
    settings it adds, and those of TrainingConfig that it or a preset sets otherwise."""
    from lstmkit.settings import TrainingConfig, declaration

    module = importlib.import_module(module_name)
    presets = getattr(module, "PRESETS", {})
    config_class = type(next(iter(presets.values()))) if presets else TrainingConfig
    default, shared = config_class(), TrainingConfig()
    rows = ["| setting | default | allowed | meaning | presets |", "|---|---|---|---|---|"]
    for item in dataclasses.fields(config_class):
        declared = declaration(config_class, item.name)
        changed = [f"{name}: {_value(getattr(preset, item.name))}" for name, preset in presets.items()
                   if getattr(preset, item.name) != getattr(default, item.name)]
        inherited = config_class is not TrainingConfig and item.name in TrainingConfig.__dataclass_fields__
        if inherited and not changed and getattr(default, item.name) == getattr(shared, item.name):
            continue
        limit, choices = declared.get("limit"), declared.get("choices")
        allowed = limit.describe() if limit else ", ".join(choices) if choices else ""
        name = _code(item.name) + ("<br>" + _code("--" + item.name.replace("_", "-"))
                                   if declared.get("flag", True) else " (no flag)")
        rows.append(f"| {name} | {_value(getattr(default, item.name))} | {_cell(allowed)} "
                    f"| {_cell(declared.get('help', ''))} | {'<br>'.join(changed)} |")
    return "\n".join(rows) + "\n"


# ---- the hooks -----------------------------------------------------------------------------------------

def on_config(config):
    global _rendered
    _rendered = _render_tutorials()
    entries = ["tutorials/index.md", *(f"tutorials/{page.name}" for page in _tutorial_pages(_rendered))]
    if config.nav is not None and not _fill_nav(config.nav, entries):
        raise PluginError(f"mkdocs.yml's nav has no '{TUTORIALS}' section for the tutorials")
    return config


def on_files(files, config):
    files.append(File.generated(config, "reference/cli.md", content=cli_reference()))
    pages = _tutorial_pages(_rendered)
    files.append(File.generated(config, "tutorials/index.md", content=_tutorials_index(pages)))
    for path in sorted(_rendered.rglob("*")):
        relative = path.relative_to(_rendered)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts) \
                and (path.suffix != ".md" or path in pages):
            files.append(File.generated(config, f"tutorials/{relative.as_posix()}", abs_src_path=str(path)))
    return files


LINK = re.compile(r"\]\(([^)\s#]+)(#[^)\s]*)?\)")


def _to_rendered(markdown: str, page_path: str, docs: Path) -> str:
    """A link from a page to the repository's tutorials/ (the folder, or a tutorial's script) goes to
    the site's Tutorials page, or that tutorial's rendered page: the link works on GitHub and here."""
    folder = docs / Path(page_path).parent

    def swap(found):
        target, anchor = found.group(1), found.group(2) or ""
        if "://" in target:
            return found.group(0)
        resolved = Path(os.path.normpath(folder / target))
        if resolved == ROOT / "tutorials":
            page = "tutorials/index.md"
        elif resolved.parent == ROOT / "tutorials" and resolved.suffix == ".py" \
                and (_rendered / f"{resolved.stem}.md").is_file():
            page = f"tutorials/{resolved.stem}.md"
        else:
            return found.group(0)
        return f"]({os.path.relpath(docs / page, folder).replace(os.sep, '/')}{anchor})"

    return LINK.sub(swap, markdown)


def on_page_markdown(markdown, page, config, files):
    markdown = _to_rendered(markdown, page.file.src_path, Path(config.docs_dir))
    return SETTINGS.sub(lambda found: settings_table(found.group(1)), markdown)


def on_post_build(config):
    global _temporary
    if _temporary is not None:
        shutil.rmtree(_temporary, ignore_errors=True)
        _temporary = None


def on_build_error(error):
    on_post_build(None)
