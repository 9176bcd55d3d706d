"""`lstmkit TASK train --help` shows what each setting is in every preset; every --help ends with
examples that parse; an error with a usual cause says the fix."""

import argparse
import re
import shlex

import pytest

from lstmkit.cli import main
from lstmkit.cli.command import build_parser
from lstmkit.cli.options import preset_values
from lstmkit.tasks.sentiment.config import PRESETS


def help_text(capsys, *argv) -> str:
    assert main([*argv, "--help"]) == 0
    return re.sub(r"\s+", " ", capsys.readouterr().out)  # argparse wraps lines where it likes


def test_train_help_shows_each_presets_value(capsys):
    text = help_text(capsys, "sentiment", "train")
    lecture, best, small = PRESETS["lecture"], PRESETS["best"], PRESETS["small"]
    assert f"--lr LR learning rate (best: {best.lr}, lecture: {lecture.lr}, small: {small.lr})" in text
    assert (f"--units UNITS units per recurrent layer (best: {best.units}, lecture: {lecture.units}, "
            f"small: {small.units})") in text
    assert "--seed SEED (default 0)" in text  # the presets agree
    assert "(best: on, lecture: off, small: on)" in text  # a switch
    assert "(best: none, lecture: none, small: imdb-best)" in text  # small starts from the installed model


@pytest.mark.parametrize("task", ["textgen", "translate"])
def test_every_tasks_train_help_shows_defaults(capsys, task):
    assert "--epochs EPOCHS (" in help_text(capsys, task, "train")


def test_preset_values_reads_none_lists_and_agreement():
    class Config:
        def __init__(self, **values):
            self.__dict__.update(values)

    presets = {"b": Config(x=None, y=[1, 2], z=3), "a": Config(x=0.5, y=[1, 2], z=3)}
    assert preset_values(presets, "x") == "a: 0.5, b: none"
    assert preset_values(presets, "y") == "default 1 2"
    assert preset_values(presets, "z") == "default 3"


def commands(parser, words=()):
    """(words, parser) of every command that runs something: `lstmkit sentiment train`, `lstmkit serve`, ..."""
    subparsers = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    if not subparsers:
        yield words, parser
    for action in subparsers:
        for name, child in action.choices.items():
            yield from commands(child, (*words, name))


LEAF_COMMANDS = list(commands(build_parser()))


def test_commands_are_found():
    found = {" ".join(words) for words, _ in LEAF_COMMANDS}
    assert {"sentiment train", "textgen sample", "translate run", "serve", "models", "demo"} <= found


@pytest.mark.parametrize("words", [words for words, _ in LEAF_COMMANDS], ids=" ".join)
def test_every_commands_help_ends_with_examples_that_parse(capsys, words):
    """Each --help ends with examples, and each example is a command line the parser accepts as that command."""
    assert main([*words, "--help"]) == 0
    out = capsys.readouterr().out
    shown = out[out.index("\nexamples:\n") + len("\nexamples:\n"):].splitlines()
    assert shown and all(line.startswith("  lstmkit ") and "  # " in line for line in shown)
    for line in shown:
        argv = shlex.split(line.split("  # ")[0])[1:]
        args = build_parser().parse_args(argv)
        assert [args.command, *filter(None, [getattr(args, "verb", None)])] == list(words), line


@pytest.mark.parametrize("argv, told", [
    (["sentiment", "evaluate", "imdb-lstm", "--data", "{tmp}/aclImdb_v1.tar.gz"],
     "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"),
    (["translate", "train", "--pairs", "{tmp}/deu-eng.zip", "--out", "{tmp}/run"],
     "https://www.manythings.org/anki/deu-eng.zip"),
    (["sentiment", "predict", "{tmp}/no-run", "A film."], "`lstmkit models` lists them"),
])
def test_an_error_with_a_usual_cause_says_the_fix(capsys, tmp_path, argv, told):
    assert main([part.replace("{tmp}", str(tmp_path)) for part in argv]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and told in error


def test_a_port_in_use_says_to_pick_another(capsys):
    import socket

    taken = socket.create_server(("127.0.0.1", 0))
    try:
        port = taken.getsockname()[1]
        assert main(["serve", "imdb-lstm", "--port", str(port)]) == 2
    finally:
        taken.close()
    error = capsys.readouterr().err
    assert error == f"lstmkit: error: --port {port} is in use on 127.0.0.1 (another lstmkit serve?): give another " \
                    f"--port, or --port 0 for any free one\n"
