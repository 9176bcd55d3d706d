"""Every numeric flag of every command, tried with 0, negative, NaN, inf and huge values: a value
outside the flag's limit (a task's own limits for its commands) is refused before anything runs, with
exit 2 and one line naming the flag."""

import argparse
import math
import subprocess
import sys

import pytest

from lstmkit.cli import build_parser, main
from lstmkit.errors import SettingsError, flag
from lstmkit.limits import LIMITS
from lstmkit.settings import check_config
from lstmkit.settings import limits_of as declared_limits
from lstmkit.tasks import registry
from lstmkit.tasks.sentiment import SentimentConfig
from lstmkit.tasks.textgen import TextgenConfig
from lstmkit.tasks.translate import TranslateConfig

BAD = ["-1", "-0.5", "nan", "NaN", "inf", "-inf", "1e308", "1e999", "9" * 40, "2.5e9", "0x10", "", "ten"]


def limits_of(path: tuple[str, ...]) -> dict:
    """The limits a command's flags are parsed with: its task's, or the shared ones."""
    tasks = registry()
    return tasks[path[0]].limits if path and path[0] in tasks else LIMITS


def numeric_flags(parser: argparse.ArgumentParser, path=()):
    """(command words, option string, setting name) of every flag that takes a number."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for word, sub in action.choices.items():
                yield from numeric_flags(sub, (*path, word))
        elif action.option_strings and action.type is not None:
            yield path, action.option_strings[0], action.type.__name__


PARSER = build_parser()  # the one main() builds; built once, as building it 700 times takes half a minute
FLAGS = sorted(numeric_flags(PARSER))


def parse(argv: list[str]) -> int | None:
    """The exit code argparse stops with, or None when the arguments parse."""
    try:
        PARSER.parse_args(argv)
    except SystemExit as exit_:
        return exit_.code
    return None


def test_every_numeric_flag_has_a_limit():
    assert len(FLAGS) >= 45
    assert all(name in limits_of(path) and flag(name) == option for path, option, name in FLAGS), FLAGS


def test_a_tasks_limits_hold_the_shared_ones_and_its_own_only():
    for task in registry().values():
        assert set(LIMITS) <= set(task.limits)
        for other in registry().values():  # no setting of another task's
            if other is not task:
                assert not (set(task.limits) - set(LIMITS)) & (set(other.limits) - set(LIMITS))


@pytest.mark.parametrize("path, option, name", FLAGS, ids=[" ".join([*p, o]) for p, o, _ in FLAGS])
def test_a_number_outside_the_limit_is_one_line_and_exit_2(path, option, name, capsys):
    limit = limits_of(path)[name]
    zero_means_something = limit.allows(0)  # no clipping, one-hot inputs, keep all
    for value in BAD + ["0"] * (not zero_means_something) + [f"{limit.high * 10:g}", f"{limit.low - 1:g}"]:
        assert parse([*path, f"{option}={value}"]) == 2, (path, option, value)
        errors = capsys.readouterr().err
        assert errors.count("\n") == 1 and f"argument {option}: must be {limit.describe()}, got " in errors, errors


@pytest.mark.parametrize("path, option, name", FLAGS, ids=[" ".join([*p, o]) for p, o, _ in FLAGS])
def test_the_limits_themselves_are_accepted(path, option, name, capsys):
    limit = limits_of(path)[name]
    for value in [limit.low, limit.high]:
        if limit.whole:
            value = int(value)
        elif (value == limit.low and limit.open_low) or (value == limit.high and limit.open_high):
            value = (limit.low + limit.high) / 2
        parse([*path, f"{option}={value}"])  # it may fail on the arguments left out, if any
        assert f"argument {option}" not in capsys.readouterr().err


@pytest.mark.parametrize("config", [SentimentConfig(), TextgenConfig(), TranslateConfig()])
def test_the_library_checks_settings_against_the_same_limits(config):
    check_config(config)  # the defaults lie inside
    for name, limit in declared_limits(type(config)).items():
        if getattr(config, name, None) is None:
            continue
        for value in (math.nan, math.inf, -1, limit.high * 2):
            config_bad = type(config)(**{**config.__dict__, name: value})
            with pytest.raises(SettingsError, match=f"^{name} must be") as refused:
                check_config(config_bad)
            assert refused.value.for_command_line().startswith(f"{flag(name)} must be")


def test_main_and_the_command_itself_exit_2_with_one_line(capsys):
    assert main(["sentiment", "predict", "RUN", "--beam", "2"]) == 2
    assert capsys.readouterr().err == "lstmkit: error: unrecognized arguments: --beam 2; see lstmkit --help\n"
    done = subprocess.run([sys.executable, "-m", "lstmkit", "textgen", "train", "--out", "never", "--epochs", "nan"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == ("lstmkit textgen train: error: argument --epochs: must be a whole number from 1 to "
                           "100,000, got 'nan'; see lstmkit textgen train --help\n")
