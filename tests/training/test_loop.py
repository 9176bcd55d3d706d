"""The shared fit loop and the run directory it writes."""

import json
import math
import os
import time
import warnings
from dataclasses import replace

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from lstmkit.training import recipe  # every task's train() calls fit() from here
from lstmkit.nn import LSTM, Dense
from lstmkit.settings import check_config
from lstmkit.tasks.sentiment import SentimentConfig
from lstmkit.tasks.textgen import TextgenConfig
from lstmkit.training.loop import FitOptions, fit
from lstmkit.training.run import BEST, CONFIG, CURVES, HISTORY, LAST, TRAINER, RunDirectory
from lstmkit.errors import RunError



class Classifier(nn.Module):
    def __init__(self, dropout=0.1):
        super().__init__()
        self.lstm = LSTM(2, 8, dropout=dropout)
        self.dense = Dense(8, 1)

    def forward(self, x, lengths=None):
        return self.dense(self.lstm(x, lengths=lengths))[:, 0]


def make_problem(seed=0, count=256):
    """Label: is the first feature's sum over time positive? Random lengths."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(count, 12, 2, generator=generator)
    lengths = torch.randint(3, 13, (count,), generator=generator)
    mask = torch.arange(12)[None, :] < lengths[:, None]
    y = ((x[..., 0] * mask).sum(1) > 0).long()
    return x, lengths, y


def train(tmp_path, epochs, *, resume=False, fail_at=None, nan_batches=(), patience=None, micro_batch=None,
          validate=None, seed=0, dropout=0.1, ema=None, weights_seen=None):
    torch.manual_seed(seed)
    model = Classifier(dropout)
    x, lengths, y = make_problem()
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.RMSprop(model.parameters(), lr=0.01)
    calls = {"n": 0}

    def batches(epoch):
        order = torch.randperm(192, generator=generator)
        return [(x[rows], lengths[rows], y[rows]) for rows in order.split(32)]

    def batch_loss(model, batch):
        calls["n"] += 1
        if weights_seen is not None:  # each step's starting weights
            weights_seen.append([p.detach().clone() for p in model.parameters()])
        if fail_at is not None and calls["n"] == fail_at:
            raise KeyboardInterrupt
        xb, lb, yb = batch
        logits = model(xb, lb)
        loss = nn.functional.binary_cross_entropy_with_logits(logits, yb.float())
        if calls["n"] in nan_batches:
            loss = loss * float("nan")
        return loss, {"count": len(yb), "correct": int(((logits > 0).long() == yb).sum())}

    def default_validate(model):
        logits = model(x[192:], lengths[192:])
        return {"val_accuracy": ((logits > 0).long() == y[192:]).float().mean().item()}

    run = RunDirectory(tmp_path)
    run.save_config({"task": "test"})
    history = fit(model, optimizer, batches=batches, batch_loss=batch_loss, validate=validate or default_validate,
                  options=FitOptions(epochs=epochs, patience=patience, micro_batch=micro_batch, ema=ema,
                                     progress=False),
                  run=run, generator=generator, resume=resume)
    return model, history, run


def test_training_learns_and_writes_the_run_directory(tmp_path):
    model, history, run = train(tmp_path, 6)
    assert len(history) == 6
    assert history[-1]["accuracy"] > history[0]["accuracy"]
    assert max(row["val_accuracy"] for row in history) > 0.75
    for name in (CONFIG, BEST, LAST, TRAINER, HISTORY, CURVES):
        assert run.file(name).is_file(), name
    assert run.file(CURVES).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [json.loads(line)["epoch"] for line in run.file(HISTORY).read_text().splitlines()] == list(range(1, 7))
    best_epoch = max(history, key=lambda row: row["val_accuracy"])["epoch"]
    assert history[-1]["best_epoch"] == best_epoch
    reloaded = run.load_weights(Classifier(), BEST)  # the model ends with the best weights
    assert all(torch.equal(a, b) for a, b in zip(reloaded.state_dict().values(), model.state_dict().values()))
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary files left behind
    umask = os.umask(0)
    os.umask(umask)
    assert {run.file(name).stat().st_mode & 0o777 for name in (CONFIG, BEST, HISTORY)} == {0o666 & ~umask}


def test_resuming_gives_the_same_model_as_training_straight_through(tmp_path):
    straight, _, _ = train(tmp_path / "straight", 4)
    train(tmp_path / "split", 2)
    resumed, history, run = train(tmp_path / "split", 4, resume=True)
    assert [row["epoch"] for row in history] == [1, 2, 3, 4]
    last_straight = RunDirectory(tmp_path / "straight").load_weights(Classifier(), LAST).state_dict()
    last_resumed = run.load_weights(Classifier(), LAST).state_dict()
    assert all(torch.allclose(last_straight[k], last_resumed[k]) for k in last_straight)


def test_a_moving_average_of_the_weights_is_validated_kept_and_resumed(tmp_path):
    weights_seen, validated = [], []

    def validate(model):  # each call scores better, so the last epoch is the best
        validated.append([p.detach().clone() for p in model.parameters()])
        return {"val_accuracy": len(validated)}

    model, _, run = train(tmp_path / "straight", 3, ema=0.9, weights_seen=weights_seen, validate=validate)
    raw = list(run.load_weights(Classifier(), LAST).parameters())
    after_steps = [*weights_seen[1:], raw]  # 6 steps an epoch
    average = after_steps[0]
    for step, weights in enumerate(after_steps[1:], start=2):
        average = [0.9 * a + 0.1 * w for a, w in zip(average, weights)]
        if step % 6 == 0:
            assert all(torch.allclose(a, v, atol=1e-6) for a, v in zip(average, validated[step // 6 - 1]))
    assert all(torch.allclose(a, m, atol=1e-6) for a, m in zip(average, model.parameters()))  # what it ends with
    assert not all(torch.allclose(a, r, atol=1e-3) for a, r in zip(average, raw))  # training went on with the raw ones
    train(tmp_path / "split", 2, ema=0.9, validate=validate)
    resumed, _, _ = train(tmp_path / "split", 3, ema=0.9, resume=True, validate=validate)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(resumed.parameters(), model.parameters()))


@pytest.mark.parametrize("task, metric", [("sentiment", "val_loss"), ("textgen", "val_nats_per_char"),
                                          ("translate", "val_loss")])
def test_every_task_validates_and_keeps_the_moving_average(task, metric, commands, tmp_path, train_cli):
    assert train_cli(commands[task], tmp_path / "plain")[0] == 0
    assert train_cli(commands[task], tmp_path / "ema", "--ema", 0.5)[0] == 0
    plain_last, last, kept = (load_file(tmp_path / run / name) for run, name in
                              [("plain", LAST), ("ema", LAST), ("ema", BEST)])
    assert all(torch.allclose(plain_last[k], last[k], atol=1e-6) for k in last)  # training itself is unchanged
    assert not all(torch.allclose(kept[k], last[k], atol=1e-4) for k in last)  # what is kept is the average
    plain, averaged = (RunDirectory(tmp_path / run).load_history()[-1][metric] for run in ("plain", "ema"))
    assert plain != pytest.approx(averaged, rel=1e-4)  # and what was validated


def test_interrupt_keeps_the_last_completed_epoch(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        train(tmp_path, 5, fail_at=6 * 2 + 3)  # 6 batches an epoch: dies inside epoch 3
    run = RunDirectory(tmp_path)
    assert run.load_trainer()["epoch"] == 2
    assert len(run.load_history()) == 2
    run.load_weights(Classifier(), LAST)
    _, history, _ = train(tmp_path, 4, resume=True)
    assert [row["epoch"] for row in history] == [1, 2, 3, 4]


def test_non_finite_losses_are_skipped(tmp_path):
    _, history, _ = train(tmp_path, 2, nan_batches={2, 3})
    assert history[0]["skipped_steps"] == 2
    assert all(torch.isfinite(torch.tensor(row["loss"])) for row in history)


def test_early_stopping_stops_after_patience(tmp_path):
    scores = iter([0.5, 0.6, 0.55, 0.54, 0.53, 0.52, 0.51])
    _, history, _ = train(tmp_path, 7, patience=2, validate=lambda model: {"val_accuracy": next(scores)})
    assert [row["epoch"] for row in history] == [1, 2, 3, 4]
    assert history[-1]["best_epoch"] == 2


def test_micro_batches_give_the_same_training(tmp_path):
    whole, _, _ = train(tmp_path / "whole", 1, dropout=0.0)  # dropout would draw its masks per chunk
    chunked, _, _ = train(tmp_path / "chunked", 1, micro_batch=10, dropout=0.0)
    for key, value in whole.state_dict().items():
        assert torch.allclose(value, chunked.state_dict()[key], atol=1e-5), key


def test_missing_run_directory_is_a_clear_error(tmp_path):
    with pytest.raises(RunError, match="is not a run directory"):
        RunDirectory(tmp_path / "nothing").load_config()


def test_starting_a_run(tmp_path):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine", encoding="utf-8")
    with pytest.raises(RunError, match="notes.txt is a file; expected a folder"):
        RunDirectory(a_file).start(resume=False)
    assert a_file.read_text(encoding="utf-8") == "mine"
    with pytest.warns(UserWarning, match="holds no run yet; starting a new one"):
        assert RunDirectory(tmp_path / "new").start(resume=True) is False
    run = RunDirectory(tmp_path / "old")
    run.save_config({"task": "sentiment"})
    assert run.start(resume=True) is True
    with pytest.raises(RunError, match="already holds a run; pass `resume`"):
        run.start(resume=False)


def test_a_time_limit_ends_training_inside_an_epoch():
    model = Classifier()
    x, lengths, y = make_problem()
    seen = []

    def batch_loss(model, batch):
        seen.append(1)
        if len(seen) == 3:
            time.sleep(0.3)  # the third step uses up the time
        return nn.functional.binary_cross_entropy_with_logits(model(batch[0], batch[1]), batch[2].float()), \
            {"count": len(batch[2])}

    history = fit(model, torch.optim.SGD(model.parameters(), lr=0.1),
                  batches=lambda epoch: [(x[i:i + 8], lengths[i:i + 8], y[i:i + 8]) for i in range(0, 256, 8)],
                  batch_loss=batch_loss, validate=lambda model: {"val_accuracy": 0.5},
                  options=FitOptions(epochs=5, max_seconds=0.2, progress=False))
    assert len(seen) == 3 and len(history) == 1 and history[0]["stopped_early"]


@pytest.mark.parametrize("name, value, expected", [
    ("epochs", 0, "epochs must be a whole number from 1 to 100,000, got 0"),
    ("batch_size", -3, "batch_size must be a whole number from 1 to 65,536, got -3"),
    ("lr", 0.0, "lr must be a number in (0, 10], got 0.0"),
    ("lr_decay", -0.5, "lr_decay must be a number in (0, 1] (1 keeps the learning rate), got -0.5"),
    ("dropout", 1.0, "dropout must be a number in [0, 1), got 1.0"),
    ("clip_norm", -1.0, "clip_norm must be a number in [0, 1e+06] (0: no clipping), got -1.0"),
    ("minutes", 0.0, "minutes must be a number in (0, 100000], got 0.0"),
    ("patience", 0, "patience must be a whole number from 1 to 10,000, got 0"),
    ("optimizer", "sgd", "optimizer must be one of rmsprop, adam, got 'sgd'"),
    ("ema", 1.0, "ema must be a number in (0, 1) (such as 0.999), got 1.0"),
    ("micro_batch", -1, "micro_batch must be a whole number from 0 to 65,536 (0: whole batches), got -1"),
    ("lr", float("nan"), "lr must be a number in (0, 10], got nan"),
    ("epochs", 2.5, "epochs must be a whole number from 1 to 100,000, got 2.5"),
    ("hidden", 10**9, "hidden must be a whole number from 1 to 16,384, got 1000000000"),
])
def test_training_numbers_out_of_range_name_the_setting(name, value, expected):
    config = next(config for config in (SentimentConfig(), TextgenConfig()) if hasattr(config, name))
    check_config(config)  # the defaults lie inside; None: not set
    with pytest.raises(ValueError) as error:
        check_config(replace(config, **{name: value}))
    assert str(error.value) == expected


@pytest.mark.parametrize("task", ["sentiment", "textgen", "translate"])
def test_a_diverging_loss_is_rolled_back_with_a_lower_learning_rate_and_training_goes_on(task, commands, tmp_path,
                                                                                         monkeypatch, train_cli):
    original_fit, calls = recipe.fit, {"steps": 0, "lrs": []}

    def fit_with_a_diverging_stretch(model, optimizer, **kwargs):  # steps 3-30 of epoch 1 (of 48+) give NaN or inf
        batch_loss = kwargs["batch_loss"]

        def diverging(model, batch):
            loss, stats = batch_loss(model, batch)
            calls["steps"] += 1
            if 3 <= calls["steps"] <= 30:
                loss = loss * (float("nan") if calls["steps"] % 2 else float("inf"))
            return loss, stats

        calls["lrs"].append(optimizer.param_groups[0]["lr"])
        return original_fit(model, optimizer, **{**kwargs, "batch_loss": diverging,
                                                 "options": replace(kwargs["options"], micro_batch=None)})

    monkeypatch.setattr(recipe, "fit", fit_with_a_diverging_stretch)
    with warnings.catch_warnings(record=True) as caught:  # what the command prints as "lstmkit: warning: ..."
        warnings.simplefilter("always")
        code, _, errors = train_cli([*commands[task], "--epochs", 2, "--batch-size", 2], tmp_path / "run")
    assert code == 0, errors
    history = RunDirectory(tmp_path / "run").load_history()
    assert history[0]["skipped_steps"] == 28 and "skipped_steps" not in history[1]
    told = [str(warning.message) for warning in caught if "NaN or infinite" in str(warning.message)]
    assert told == ["epoch 1: the loss was NaN or infinite in 21 steps; back to the weights the epoch started with, "
                    f"learning rate halved to {calls['lrs'][0] / 2:.3g}",
                    "epoch 1: skipped 7 step(s) whose loss was NaN or infinite"]
    weights = load_file(tmp_path / "run" / LAST)
    assert all(torch.isfinite(value).all() for value in weights.values())
    assert all(math.isfinite(row["loss"]) for row in history)
