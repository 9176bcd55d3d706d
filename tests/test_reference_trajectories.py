"""No behaviour change: short seeded runs of each task give the numbers recorded before the code was
reshaped (issue 17), to the last digit on CPU: every epoch's training and held-out values, and what
the trained run then predicts, samples and translates.

Recorded with `LSTMKIT_RECORD_REFERENCE=1 .venv/bin/python -m pytest -q tests/test_reference_trajectories.py`
into tests/data/reference_trajectories.json; a change of behaviour that is meant is recorded anew.
"""

import json
import os
from pathlib import Path

import pytest

from lstmkit.cli import main
from lstmkit.training.run import RunDirectory

REFERENCE = Path(__file__).parent / "data" / "reference_trajectories.json"
TIMINGS = {"seconds", "val_seconds"}  # wall-clock: the only values that may differ
SEEDS = (0, 7)


def use_commands(task: str, run: Path) -> list[list[str]]:
    """What each task's trained run is asked after training; the answers go into the reference."""
    return {
        "sentiment": [["sentiment", "predict", run, "--json", "a good great film", "dull and awful", "the plot"]],
        "textgen": [["textgen", "sample", run, "--json", "--seed", 3, "--length", 60, "--num", 2, "--temperature", 0.7,
                     "--seed-text", "the "],
                    ["textgen", "sample", run, "--json", "--seed", 3, "--length", 40, "--top-p", 0.8]],
        "translate": [["translate", "run", run, "--json", "one two three.", "nine.", "five four"],
                      ["translate", "run", run, "--json", "--beam", 3, "one two three.", "seven eight"]],
    }[task]


def trajectory(task: str, seed: int, commands, folder: Path, capsys) -> dict:
    run = folder / f"{task}-{seed}"
    assert main([str(arg) for arg in [*commands[task], "--seed", seed, "--out", run, "--quiet"]]) == 0
    capsys.readouterr()
    epochs = [{key: value for key, value in row.items() if key not in TIMINGS}
              for row in RunDirectory(run).load_history()]
    answers = []
    for command in use_commands(task, run):
        assert main([str(arg) for arg in command]) == 0
        answers.append(json.loads(capsys.readouterr().out))
    return {"epochs": epochs, "answers": answers}


@pytest.mark.parametrize("task", ["sentiment", "textgen", "translate"])
def test_short_seeded_runs_give_the_recorded_numbers(task, commands, tmp_path, capsys):
    got = {str(seed): trajectory(task, seed, commands, tmp_path, capsys) for seed in SEEDS}
    if os.environ.get("LSTMKIT_RECORD_REFERENCE"):
        recorded = json.loads(REFERENCE.read_text()) if REFERENCE.is_file() else {}
        REFERENCE.parent.mkdir(exist_ok=True)
        REFERENCE.write_text(json.dumps({**recorded, task: got}, indent=1, ensure_ascii=False) + "\n")
    expected = json.loads(REFERENCE.read_text())[task]
    for seed in expected:
        assert got[seed]["epochs"] == expected[seed]["epochs"], (task, seed)
        assert got[seed]["answers"] == expected[seed]["answers"], (task, seed)
