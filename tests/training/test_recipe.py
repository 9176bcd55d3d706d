"""One rule for what --resume may change (training/recipe.py), the same for every task."""

import pytest

from conftest import train
from lstmkit.training.recipe import RESUMABLE, best_epoch
from lstmkit.training.run import RunDirectory


@pytest.mark.parametrize("task", ["sentiment", "textgen", "translate"])
def test_resume_honours_epochs_minutes_and_lr_decay_and_names_what_it_ignores(task, commands, tmp_path, capfd):
    run = tmp_path / "run"
    assert train(capfd, commands[task], run, "--epochs", 1)[0] == 0
    started_with = RunDirectory(run).load_config()["config"].get("lr_decay")
    # --minutes counts the whole run: the first epoch alone took longer than this, so none follows
    with pytest.warns(UserWarning) as warned:  # the settings given again as they were say nothing
        code, _, errors = train(capfd, commands[task], run, "--resume", "--epochs", 3, "--minutes", 1e-6,
                                "--layers", 2)
    assert code == 0 and len(RunDirectory(run).load_history()) == 1, errors
    assert [str(warning.message) for warning in warned] == [
        "--resume continues the run's recipe; ignored: --layers (a resume may change --epochs, --minutes, "
        "--patience, --lr-decay)"]
    lr_decay = ["--lr-decay", 0.5] if task != "sentiment" else []
    assert train(capfd, commands[task], run, "--resume", "--epochs", 3, *lr_decay)[0] == 0
    history = RunDirectory(run).load_history()
    assert [row["epoch"] for row in history] == [1, 2, 3]
    if lr_decay:  # the run's own decay ended epoch 1; the new one applies from the epoch after the resume on
        assert history[1]["lr"] == pytest.approx(history[0]["lr"] * started_with)
        assert history[2]["lr"] == pytest.approx(history[1]["lr"] * 0.5)
    assert RESUMABLE == ("epochs", "minutes", "patience", "lr_decay")


def test_the_best_epoch_is_the_one_fit_kept():
    history = [{"epoch": 1, "val": 0.5, "best_epoch": 1}, {"epoch": 2, "val": 0.7, "best_epoch": 2},
               {"epoch": 3, "val": 0.6, "best_epoch": 2}]
    assert best_epoch(history) == history[1] and best_epoch([]) == {}


@pytest.mark.parametrize("preset", ["sentiment", "textgen", "translate"])
def test_presets_are_values_training_cannot_change(preset):
    import dataclasses
    import importlib

    presets = importlib.import_module(f"lstmkit.tasks.{preset}").PRESETS
    with pytest.raises(dataclasses.FrozenInstanceError):
        presets["lecture"].epochs = 99
