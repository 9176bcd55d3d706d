"""One rule for what --resume may change (training/recipe.py), the same for every task."""

import pytest

from lstmkit.training.recipe import RESUMABLE, best_epoch
from lstmkit.training.run import RunDirectory


@pytest.mark.parametrize("task", ["sentiment", "textgen", "translate"])
def test_resume_honours_epochs_minutes_and_lr_decay_and_names_what_it_ignores(task, commands, tmp_path, train_cli):
    run = tmp_path / "run"
    assert train_cli(commands[task], run, "--epochs", 1)[0] == 0
    started_with = RunDirectory(run).load_config()["config"].get("lr_decay")
    # --minutes counts the whole run: the first epoch alone took longer than this, so none follows
    with pytest.warns(UserWarning) as warned:  # the settings given again as they were say nothing
        code, _, errors = train_cli(commands[task], run, "--resume", "--epochs", 3, "--minutes", 1e-6,
                                "--layers", 2)
    assert code == 0 and len(RunDirectory(run).load_history()) == 1, errors
    resumable = {"sentiment": "--epochs, --minutes, --patience", "textgen": "--epochs, --minutes, --lr-decay",
                 "translate": "--epochs, --minutes, --patience, --lr-decay"}[task]  # those the task has
    assert [str(warning.message) for warning in warned] == [
        f"--resume continues the run's recipe; ignored: --layers (a resume may change {resumable})"]
    lr_decay = ["--lr-decay", 0.5] if task != "sentiment" else []
    assert train_cli(commands[task], run, "--resume", "--epochs", 3, *lr_decay)[0] == 0
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


def test_a_new_task_is_a_recipe_trained_resumed_and_loaded_like_the_others(tmp_path):
    """A made-up task (is a sequence of digits' sum above its mean?) brings only its data, model, loss
    and validation; train_recipe trains it into a run directory, resumes it, and load_trained reads it back."""
    import dataclasses

    import torch

    from lstmkit.nn import LSTM, Dense
    from lstmkit.settings import TrainingConfig
    from lstmkit.training.recipe import Recipe, load_trained, start_run, train_recipe

    @dataclasses.dataclass(frozen=True)
    class SumConfig(TrainingConfig):
        units: int = 8

    digits = torch.randint(0, 10, (256, 6), generator=torch.Generator().manual_seed(1))
    labels = (digits.sum(1) > 27).long()

    def make_model(config=None, vocabulary=None):
        return torch.nn.Sequential(torch.nn.Embedding(10, 4), LSTM(4, 8), Dense(8, 2))

    def batch_loss(model, batch):
        x, y = batch
        logits = model(x)
        correct = int((logits.argmax(1) == y).sum())
        return torch.nn.functional.cross_entropy(logits, y), {"count": len(y), "correct": correct}

    def validate(model):
        return {"val_accuracy": (model(digits[200:]).argmax(1) == labels[200:]).float().mean().item()}

    def recipe(config):
        return Recipe("sums", config, make_model, batches=lambda epoch, generator: list(zip(
            digits[:200][torch.randperm(200, generator=generator)].split(20),
            labels[:200].split(20))), batch_loss=batch_loss, validate=validate, monitor="val_accuracy", mode="max",
            vocabulary={"digits": list("0123456789")}, facts={"data": "made up"}, describe="200 sums")

    logged = []
    for epochs, resume in ((2, False), (4, True)):
        target, run, resuming, config = start_run(tmp_path / "run", SumConfig(epochs=epochs, lr=0.01, optimizer="adam"),
                                                  "sums", resume, "cpu")
        history, model = train_recipe(recipe(config), run, resuming, target, progress=False, log=logged.append)
    assert [row["epoch"] for row in history] == [1, 2, 3, 4] and resuming
    assert logged[0] == "200 sums; 474 parameters on cpu"
    loaded, vocabulary, config, _ = load_trained(tmp_path / "run", "sums", SumConfig, lambda data, run: data["digits"],
                                                 make_model)
    assert vocabulary == list("0123456789") and config == SumConfig(epochs=4, lr=0.01, optimizer="adam")
    best = max(history, key=lambda row: row["val_accuracy"])
    assert validate(loaded) == pytest.approx({"val_accuracy": best["val_accuracy"]}) and best["val_accuracy"] > 0.6
