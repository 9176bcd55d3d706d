"""Drills: real SIGINTs sent from outside, at random moments, to real trainings of each task.

Wherever a signal lands (starting up, in a step, validating, saving, drawing the curves), the
command must end within 10 s with exit code 130 and one line, the run must load, and --resume must
end with the weights an uninterrupted run of the same seed ends with. The training is given far
more epochs than it can finish, so a signal can never arrive after the work is done: an exit code
0 is a lost signal. CI sends DRILLS signals per task; `LSTMKIT_DRILLS=20 pytest -k drill` sends the
issue's 20 (docs/RELIABILITY.md has the figures).
"""

import os
import random
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

from lstmkit.tasks import sentiment, textgen, translate
from lstmkit.training.run import LAST, RunDirectory

DRILLS = int(os.environ.get("LSTMKIT_DRILLS", "2"))
LOADERS = {"sentiment": sentiment.load, "textgen": textgen.load, "translate": translate.load}
EXTRA = {"sentiment": [], "textgen": [], "translate": ["--patience", "1000"]}


def command_for(commands, task: str, out, epochs) -> list[str]:
    return [sys.executable, "-m", "lstmkit", *map(str, commands[task]), *EXTRA[task], "--epochs", str(epochs),
            "--out", str(out), "--quiet"]


@pytest.fixture(scope="module")
def reference(commands, tmp_path_factory):
    """reference(task, epochs) -> the run directory of an uninterrupted training of that many epochs."""
    folder, made = tmp_path_factory.mktemp("references"), {}

    def run_of(task, epochs):
        if (task, epochs) not in made:
            out = folder / f"{task}-{epochs}"
            subprocess.run(command_for(commands, task, out, epochs), check=True, capture_output=True, timeout=300)
            made[task, epochs] = out
        return made[task, epochs]

    return run_of


@pytest.mark.parametrize("task", ["sentiment", "textgen", "translate"])
@pytest.mark.parametrize("drill", range(DRILLS))
def test_signal_drill(task, drill, commands, reference, tmp_path):
    moment = random.Random(f"{task}-{drill}").uniform(0.2, 6.0)  # seconds after the start
    out = tmp_path / "run"
    # SIGINT back to its default: a shell starting the suite in the background ignores it, and children inherit that
    process = subprocess.Popen(command_for(commands, task, out, 1000), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(moment)
    assert process.poll() is None, process.communicate()[1]
    process.send_signal(signal.SIGINT)
    sent = time.monotonic()
    errors = process.communicate(timeout=60)[1]
    waited = time.monotonic() - sent
    assert process.returncode == 130, errors
    assert "Traceback" not in errors and "Exception ignored" not in errors and errors.count("\n") == 1, errors
    assert waited < 10, f"took {waited:.1f} s to stop"
    kept = RunDirectory(out).trained_epochs()
    assert len(RunDirectory(out).load_history()) == kept  # one signal: the epoch it came in is finished or dropped
    if kept:
        LOADERS[task](out)
    assert not list(out.glob(".*.tmp"))
    resumed = subprocess.run(command_for(commands, task, out, kept + 1) + ["--resume"], capture_output=True,
                             text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    mine, theirs = load_file(out / LAST), load_file(reference(task, kept + 1) / LAST)
    assert all(torch.equal(mine[key], theirs[key]) for key in theirs), f"resumed after epoch {kept}: other weights"
