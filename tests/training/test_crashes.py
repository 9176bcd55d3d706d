"""kill -9, a full disk and a second writer: the run directory keeps its last complete checkpoint,
loads, and --resume ends where an uninterrupted run ends (training/run.py, runlock.py)."""

import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

from lstmkit.cli import main
from lstmkit.training.run import LAST, NEXT, TRAINER, RunDirectory


# A training whose writer stops for good at one point of one checkpoint write (found by the name
# os.replace is given), after touching MARKER: the test then kills it with SIGKILL. Only this test
# program pauses the writer; the product's path is untouched.
PAUSED = """
import os, pathlib, sys, time
source, target, epoch, marker = sys.argv[1:5]
replace, seen = os.replace, []

def pausing_replace(src, dst):
    name = pathlib.Path(src if source != "-" else dst).name
    if name.startswith(source if source != "-" else target) and (source == "-" or pathlib.Path(dst).name == target):
        seen.append(name)
        if len(seen) == int(epoch):
            pathlib.Path(marker).touch()
            time.sleep(600)
    return replace(src, dst)

os.replace = pausing_replace
from lstmkit.cli import main
sys.exit(main(sys.argv[5:]))
"""

# where the writer stops -> (source name prefix or "-", target name, the epoch of the write, the
# epochs then in the checkpoint)
PAUSES = {
    "writing the checkpoint's weights": (".last.safetensors.next.", "last.safetensors.next", 2, 1),
    "between the checkpoint's two files": (".trainer.pt.next.", "trainer.pt.next", 2, 1),
    "between the two renames of the commit": ("trainer.pt.next", "trainer.pt", 2, 2),
    "writing the trainer state after validation": (".trainer.pt.", "trainer.pt", 2, 2),
    "writing the history": ("-", "history.jsonl", 2, 2),
}


def kill_and_check(commands, task, pause, tmp_path, reference_epochs):
    command = [*map(str, commands[task]), "--epochs", str(reference_epochs)]
    source, target, nth, kept = PAUSES[pause]
    run, marker = tmp_path / "run", tmp_path / "paused"
    process = subprocess.Popen([sys.executable, "-c", PAUSED, source, target, str(nth), str(marker), *command,
                                "--out", str(run), "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), process.communicate()[1]
    process.send_signal(signal.SIGKILL)
    process.wait()
    return run, kept


EPOCHS = 3


@pytest.fixture(scope="module")
def whole(commands, tmp_path_factory):
    """Each task trained EPOCHS epochs without a kill: task -> its run directory."""
    folder, runs = tmp_path_factory.mktemp("whole"), {}
    for task in ("sentiment", "textgen", "translate"):
        runs[task] = folder / task
        assert main([str(arg) for arg in [*commands[task], "--epochs", EPOCHS, "--out", runs[task], "--quiet"]]) == 0
    return runs


# every pause for textgen; for the other tasks the one that matters most (inside the commit), to keep
# the suite's time; LSTMKIT_EVERY_PAUSE=1 tries every pause for every task
KILLS = [(task, pause) for task in ("sentiment", "textgen", "translate") for pause in PAUSES
         if task == "textgen" or os.environ.get("LSTMKIT_EVERY_PAUSE") == "1"
         or pause == "between the two renames of the commit"]


@pytest.mark.parametrize("task, pause", KILLS)
def test_kill_9_in_a_checkpoint_write_keeps_the_last_complete_checkpoint(task, pause, commands, whole, tmp_path,
                                                                         train_cli):
    epochs = EPOCHS
    run, kept = kill_and_check(commands, task, pause, tmp_path, epochs)
    # a reader sees the best weights of a finished epoch (or none yet), never half a file
    RunDirectory(run).recover()
    assert not list(run.glob(f"*{NEXT}")) and not list(run.glob(".*.tmp"))
    assert RunDirectory(run).trained_epochs() == kept
    state = RunDirectory(run).load_trainer()
    assert state["checkpoint"] == RunDirectory(run)._stamp_of_weights(run / LAST)
    code, _, errors = train_cli([*commands[task], "--epochs", epochs], run, "--resume")
    assert code == 0, errors
    assert [row["epoch"] for row in RunDirectory(run).load_history()] == list(range(1, epochs + 1))
    mine, theirs = load_file(run / LAST), load_file(whole[task] / LAST)
    assert all(torch.equal(mine[key], theirs[key]) for key in theirs)


def test_a_checkpoint_of_two_stamps_is_refused(commands, tmp_path, train_cli):
    run = tmp_path / "run"
    assert train_cli([*commands["textgen"], "--epochs", 2], run)[0] == 0
    state = RunDirectory(run).load_trainer()
    state["checkpoint"] = "1-other"
    torch.save(state, run / TRAINER)
    code, _, errors = train_cli([*commands["textgen"], "--epochs", 3], run, "--resume")
    assert code == 2 and "are of different checkpoints" in errors and str(run / TRAINER) in errors


def test_a_full_disk_is_one_line_and_keeps_the_last_checkpoint(commands, tmp_path, monkeypatch, train_cli):
    from lstmkit.training import run as run_module

    real_fdopen, checkpoints = os.fdopen, []

    def fdopen_of_a_full_disk(descriptor, *args, **kwargs):  # the disk fills in the third checkpoint's write
        file = real_fdopen(descriptor, *args, **kwargs)
        if f"{LAST}{NEXT}." in os.readlink(f"/proc/self/fd/{descriptor}"):
            checkpoints.append(file)
            if len(checkpoints) == 3:
                def write(data):
                    raise OSError(28, "No space left on device")

                file.write = write
        return file

    command, run = [*commands["textgen"], "--epochs", 5], tmp_path / "run"
    monkeypatch.setattr(run_module.os, "fdopen", fdopen_of_a_full_disk)
    code, _, errors = train_cli(command, run)
    monkeypatch.undo()
    assert code == 1, errors
    assert errors.startswith(f"lstmkit: error: {run}: the disk is full (") and "a checkpoint needs about" in errors
    assert errors.count("\n") == 1 and "the last completed epoch (2) is saved" in errors
    assert "continue with: lstmkit textgen train" in errors
    assert RunDirectory(run).load_trainer()["epoch"] == 2 and not list(run.glob(".*.tmp"))
    assert train_cli(command, run, "--resume")[0] == 0
    assert train_cli(command, tmp_path / "whole")[0] == 0
    mine, theirs = load_file(run / LAST), load_file(tmp_path / "whole" / LAST)
    assert all(torch.equal(mine[key], theirs[key]) for key in theirs)


@pytest.fixture
def disk_of(tmp_path):
    """disk_of(bytes) -> a tmpfs of that size where this process may mount one (root on Linux),
    else None; unmounted after the test."""
    mounts = []

    def mount(size):
        folder = tmp_path / f"disk{len(mounts)}"
        folder.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                              capture_output=True)
        if done.returncode:
            return None
        mounts.append(folder)
        return folder

    yield mount
    for folder in mounts:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def test_a_real_full_disk_ends_training_with_one_line(commands, disk_of, tmp_path, capfd, monkeypatch, train_cli):
    command = [*commands["translate"], "--epochs", 4, "--hidden", 64]
    assert train_cli(command, tmp_path / "whole")[0] == 0
    whole = tmp_path / "whole"
    written = sum(path.stat().st_size for path in whole.iterdir())
    checkpoint = (whole / LAST).stat().st_size + (whole / TRAINER).stat().st_size
    # room for the first epoch's files and half of a second checkpoint: the second one fills the disk
    disk = disk_of(written + checkpoint // 2 + 12 * 4096)  # + a page for each file: tmpfs counts pages
    if disk is None:  # this process may not mount: the injected full disk of the test above stands in
        return test_a_full_disk_is_one_line_and_keeps_the_last_checkpoint(commands, tmp_path, capfd, monkeypatch)
    run = disk / "run"
    code, _, errors = train_cli(command, run)
    assert code == 1, errors
    assert errors.startswith(f"lstmkit: error: {run}: the disk is full (") and errors.count("\n") == 1
    assert "the last completed epoch (1) is saved" in errors
    state = RunDirectory(run).load_trainer()
    assert state["epoch"] == 1 and state["checkpoint"] == RunDirectory(run)._stamp_of_weights(run / LAST)
    assert not list(run.glob(".*.tmp")) and not list(run.glob(f"*{NEXT}"))


def test_a_second_writer_is_refused_naming_the_first_and_a_killed_ones_lock_is_taken_over(commands, tmp_path,
                                                                                          train_cli):
    run = tmp_path / "run"
    first = subprocess.Popen([sys.executable, "-m", "lstmkit", *map(str, commands["textgen"]), "--epochs", "1000",
                              "--out", str(run), "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not (run / "history.jsonl").exists() and first.poll() is None:
        time.sleep(0.05)
    for extra in ([], ["--resume"]):
        code, _, errors = train_cli(commands["textgen"], run, *extra)
        assert code == 2 and errors.count("\n") == 1
        assert f"is being written by process {first.pid} on " in errors and "lstmkit textgen train" in errors
    first.send_signal(signal.SIGKILL)
    first.wait()
    kept = RunDirectory(run).trained_epochs()  # the killed training's lock is taken over
    code, _, errors = train_cli(commands["textgen"], run, "--resume", "--epochs", kept + 1)
    assert code == 0, errors
