"""Keras-style summaries: the lecture's numbers, exactly, from the library and the command line."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from lstmkit import summary
from lstmkit.cli import main
from lstmkit.nn import LSTM
from lstmkit.lecture_models import LECTURE_MODELS

EXPECTED = {  # preset: (rows as (name, param count), total, trainable, non-trainable)
    "imdb-lstm": ([("embedding", "320,000"), ("lstm", "8,320"), ("dense", "33")], "328,353", "328,353", "0"),
    "imdb-simplernn": ([("embedding", "320,000"), ("simple_rnn", "2,080"), ("dense", "33")],
                       "322,113", "322,113", "0"),
    "imdb-stacked": ([("embedding", "320,000"), ("lstm", "8,320"), ("lstm_1", "8,320"), ("lstm_2", "8,320"),
                      ("dense", "33")], "344,993", "344,993", "0"),
    "imdb-bilstm": ([("embedding", "320,000"), ("bidirectional", "16,640"), ("dense", "65")],
                    "336,705", "336,705", "0"),
    "imdb-pretrained": ([("embedding", "320,000"), ("bidirectional", "16,640"), ("dense", "65")],
                        "336,705", "16,705", "320,000"),
    "char-lstm": ([("lstm", "95,232"), ("dense", "7,353")], "102,585", "102,585", "0"),
}


def parse(text):
    """-> ([(layer name, param #)], total, trainable, non-trainable) from a printed summary."""
    lines = text.splitlines()
    start = [i for i, line in enumerate(lines) if line.startswith("=")]
    rows = [(line.split()[0], line.split()[-1]) for line in lines[start[0] + 1: start[1]]]
    totals = {line.split(":")[0]: line.split(":")[1].split()[0] for line in lines if "params:" in line}
    return rows, totals["Total params"], totals["Trainable params"], totals["Non-trainable params"]


@pytest.mark.parametrize("preset", sorted(EXPECTED))
def test_every_preset_gives_the_lectures_numbers(preset, capsys):
    assert main(["summary", preset]) == 0
    assert parse(capsys.readouterr().out) == EXPECTED[preset]


def test_every_preset_is_checked():
    assert set(LECTURE_MODELS) == set(EXPECTED)


def test_output_shapes_show_the_batch_as_none():
    text = summary(LECTURE_MODELS["imdb-stacked"].build(), LECTURE_MODELS["imdb-stacked"].example(), print_fn=None)
    assert "(None, 500, 32)" in text and "(None, 1)" in text


def test_summary_of_a_torch_lstm_counts_its_second_bias():
    text = summary(nn.Sequential(nn.LSTM(32, 32)), print_fn=None)
    assert "8,448" in text and "? " in text  # no example input: shapes unknown


def test_return_state_shows_every_output_shape():
    model = LSTM(4, 3, return_state=True)
    text = summary(model, torch.zeros(1, 5, 4), print_fn=None)
    assert "[(None, 3), (None, 3), (None, 3)]" in text


def test_console_command_and_module_run():
    console = Path(sys.executable).parent / "lstmkit"  # installed beside this Python
    for command in ([str(console)], [sys.executable, "-m", "lstmkit"]):
        result = subprocess.run(command + ["summary", "imdb-lstm"], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert "Total params: 328,353" in result.stdout


def test_unknown_preset_is_a_usage_error():
    result = subprocess.run([sys.executable, "-m", "lstmkit", "summary", "imdb-gru"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "invalid choice: 'imdb-gru'" in result.stderr and "Traceback" not in result.stderr
