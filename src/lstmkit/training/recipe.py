"""Starting or resuming a task's training run, and the rules every task's run follows.

The best epoch is the one with the best held-out value of the metric the task's fit() monitors
(`best_epoch`); it is the run's model. A resumed run keeps the recipe it was started with (model,
data, optimizer, seeds), so that it ends as an uninterrupted run would. Only how long and how fast
training goes on may change: RESUMABLE. `epochs` and `minutes` count the whole run, the epochs and training time before the
resume included; a new `lr_decay` applies from the next epoch on.
"""

from __future__ import annotations

import dataclasses

from . import distributed
from .run import RunDirectory

RESUMABLE = ("epochs", "minutes", "patience", "lr_decay")


def resumed(saved: dict, requested):
    """The saved config (a dict of `type(requested)`'s fields) with the RESUMABLE settings of `requested`."""
    kind = type(requested)
    names = {field.name for field in dataclasses.fields(kind)}
    return kind(**{**saved, **{name: getattr(requested, name) for name in RESUMABLE if name in names}})


def best_epoch(history: list[dict]) -> dict:
    """The history row of the epoch a run keeps as its model (model.safetensors): the one with the
    best held-out value of the metric the task's fit() monitors; {} before any epoch."""
    return history[history[-1]["best_epoch"] - 1] if history else {}


def start_run(out, config, task: str, resume: bool, device: str):
    """Joins the other processes (under torchrun), takes the run directory and says whether it
    resumes -> (device, run, resuming, the config to train with)."""
    target = distributed.start(device)
    run = RunDirectory(out)
    resuming = run.start(resume)
    if resuming:
        config = resumed(run.load_task_config(task, type(config)), config)
    return target, run, resuming, config
