"""The documentation site (mkdocs.yml) builds offline with --strict, as `make docs` builds it, and holds
what it promises: every tutorial with its figures, every command of the real parser with its options
and examples, and the API reference made from lstmkit.load's docstring."""

from __future__ import annotations

import argparse
import html
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lstmkit.api import load
from lstmkit.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DEAD_PROXY = "http://127.0.0.1:9"  # nothing listens there: a build that tried to download would fail
HEADING = re.compile(r"<h([1-4])[^>]*>(.*?)</h\1>", re.DOTALL)


@pytest.fixture(scope="module")
def site(rendered_tutorials, tmp_path_factory) -> Path:
    """The site built from the tutorials rendered once for the suite -> its folder."""
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "LSTMKIT_TUTORIALS_RENDERED": str(next(iter(rendered_tutorials.values())).markdown.parent),
           "NO_MKDOCS_2_WARNING": "1", "OMP_NUM_THREADS": "1", "NO_PROXY": "", "no_proxy": "",
           **{name: DEAD_PROXY for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                                            "http_proxy", "https_proxy", "all_proxy")}}
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-4000:]
    assert "WARNING" not in built.stderr, built.stderr[-4000:]
    return out


def text_of(markup: str) -> str:
    """What a reader sees of some HTML: tags dropped, entities read, white space as single spaces."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def sections(page: str) -> dict[str, str]:
    """{heading text: the HTML from that heading to the next one} of a page."""
    found = list(HEADING.finditer(page))
    ends = [match.start() for match in found[1:]] + [len(page)]
    return {text_of(match.group(2)).rstrip("¶ "): page[match.start():end] for match, end in zip(found, ends)}


def commands(parser: argparse.ArgumentParser, path=("lstmkit",)):
    """(path, parser) of `lstmkit` and of every subcommand under it, as argparse holds them."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, (*path, name))


def test_every_tutorial_is_a_page_with_its_figures(site, rendered_tutorials):
    home = (site / "index.html").read_text(encoding="utf-8")
    for stem, rendered in rendered_tutorials.items():
        page = site / "tutorials" / stem / "index.html"
        assert page.is_file(), f"{stem} is not in the site"
        assert f'href="tutorials/{stem}/"' in home, f"{stem} is not in the navigation"
        title = next(line[2:].strip() for line in rendered.markdown.read_text(encoding="utf-8").splitlines()
                     if line.startswith("# "))
        markup = page.read_text(encoding="utf-8")
        assert title in text_of(markup)
        pictures = re.findall(r'<img[^>]*src="([^"]+)"', markup)
        assert len(pictures) >= len(rendered.figures), f"{stem}: {len(rendered.figures)} figures, {pictures} shown"
        for source in pictures:
            if "://" not in source and not source.startswith("data:"):
                assert (page.parent / source).resolve().is_file(), f"{stem} shows {source}, which is not in the site"


def test_the_cli_reference_lists_every_command_with_its_options_and_examples(site):
    page = sections((site / "reference" / "cli" / "index.html").read_text(encoding="utf-8"))
    walked = list(commands(build_parser()))
    assert len(walked) > 10
    for path, parser in walked:
        name = " ".join(path)
        assert name in page, f"{name} has no section in the CLI reference"
        said = text_of(page[name])
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            for option in action.option_strings or [action.metavar if isinstance(action.metavar, str) else action.dest]:
                assert option in said, f"{name}: {option} is not in its section of the CLI reference"
        for line in (parser.epilog or "").splitlines()[1:]:  # the examples --help ends with, after "examples:"
            assert re.sub(r"\s+", "", line) in re.sub(r"\s+", "", said), f"{name}: example {line.strip()!r} is missing"


def test_the_api_reference_holds_the_docstring_of_lstmkit_load(site):
    said = text_of((site / "reference" / "python" / "index.html").read_text(encoding="utf-8"))
    assert "lstmkit.api.load" in said
    # compared without white space (inline code and links put spaces around their words in text_of)
    # and without list markers (a list renders as one)
    docstring = re.sub(r"\s+", "", re.sub(r"(?m)^- ", "", inspect.getdoc(load)).replace("`", ""))
    assert len(docstring) > 200 and docstring in re.sub(r"\s+", "", said)


def test_the_site_reads_offline(site):
    for page in site.rglob("*.html"):
        markup = page.read_text(encoding="utf-8")
        assert "fonts.googleapis.com" not in markup and "fonts.gstatic.com" not in markup, page
