"""The options every command shares are declared once (cli/options.py) and work alike."""

import argparse

import torch

from lstmkit.cli import build_parser, main
from lstmkit.training.run import RunDirectory


def commands_of(parser, path=()):
    """(command words, its parser) of every command that runs something."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for word, sub in action.choices.items():
                yield from commands_of(sub, (*path, word))
    if not any(isinstance(action, argparse._SubParsersAction) for action in parser._actions):
        yield path, parser


def test_each_model_command_takes_device_and_threads_with_one_meaning():
    helps = {}
    for path, parser in commands_of(build_parser()):
        for action in parser._actions:
            if action.option_strings and action.option_strings[0] in ("--device", "--threads", "--json", "--quiet"):
                helps.setdefault(action.option_strings[0], set()).add(action.help.split(" (default")[0])
        if path[-1] in ("train", "evaluate", "predict", "run"):
            assert {"--device", "--threads"} <= {a.option_strings[0] for a in parser._actions if a.option_strings}, path
    assert all(len(texts) == 1 for texts in helps.values()), helps


def test_threads_sets_torchs_threads(trained_runs, capsys):
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # whatever the suite runs on: the option must bring it to 1
    try:
        assert main(["textgen", "sample", str(trained_runs["textgen"]), "--length", "5", "--threads", "1"]) == 0
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_a_word_level_translation_model_gets_an_embedding_size_by_default(commands, tmp_path, train_cli):
    command = [part for part in commands["translate"] if str(part) not in ("--embedding-dim", "8")]
    assert "--level" in command and train_cli([*command, "--epochs", 1, "--hidden", 8], tmp_path / "run")[0] == 0
    assert RunDirectory(tmp_path / "run").load_config()["config"]["embedding_dim"] == 256


def test_a_library_message_names_settings_and_the_command_shows_them_as_flags(tmp_path, capsys):
    from lstmkit.errors import RunError, as_flags

    assert as_flags("pass `resume`, or a smaller `test_pairs` than `lstmkit translate train` holds") == (
        "pass --resume, or a smaller --test-pairs than `lstmkit translate train` holds")
    (tmp_path / "file").write_text("not a folder")
    try:
        RunDirectory(tmp_path / "file").start(False)
    except RunError as error:
        assert str(error).startswith(f"`out` {tmp_path / 'file'} is a file")
    else:
        raise AssertionError("a file as the run directory was taken")
    assert main(["textgen", "train", "--out", tmp_path / "file", "--epochs", 1]) == 2
    assert capsys.readouterr().err.startswith(f"lstmkit: error: --out {tmp_path / 'file'} is a file")
