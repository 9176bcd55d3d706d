"""`lstmkit TASK train --help` shows what each setting is in every preset."""

import re

import pytest

from lstmkit.cli import main
from lstmkit.cli.options import preset_values
from lstmkit.tasks.sentiment.config import PRESETS


def help_text(capsys, *argv) -> str:
    assert main([*argv, "--help"]) == 0
    return re.sub(r"\s+", " ", capsys.readouterr().out)  # argparse wraps lines where it likes


def test_train_help_shows_each_presets_value(capsys):
    text = help_text(capsys, "sentiment", "train")
    lecture, best = PRESETS["lecture"], PRESETS["best"]
    assert f"--lr LR learning rate (best: {best.lr}, lecture: {lecture.lr})" in text
    assert f"--units UNITS units per recurrent layer (best: {best.units}, lecture: {lecture.units})" in text
    assert "--seed SEED (default 0)" in text  # the presets agree
    assert "(best: on, lecture: off)" in text  # a switch


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
