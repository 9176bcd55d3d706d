"""One training recipe for every task: start or resume a run, fit, save, load.

A task brings only what is its own (`Recipe`): its data as batches, its model, its loss and
held-out metrics, and the vocabulary and facts its run directory keeps. `train_recipe` does the
rest the same way for every task: seeds, the run's files, the optimizer and learning-rate
schedule, fit() with early stopping and checkpoints.

The best epoch is the one with the best held-out value of the metric the task monitors
(`best_epoch`); it is the run's model. A resumed run keeps the recipe it was started with (model,
data, optimizer, seeds), so that it ends as an uninterrupted run would. Only how long and how fast
training goes on may change: RESUMABLE. `epochs` and `minutes` count the whole run, the epochs and
training time before the resume included; a new `lr_decay` applies from the next epoch on.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import torch

from ..dependencies import need_all
from ..settings import TrainingConfig
from ..version import __version__
from . import distributed
from .device import resolve_device
from .loop import NEEDS, FitOptions, fit
from .optimizers import make_optimizer
from ..catalogue import located
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


@dataclass
class Recipe:
    """What a task brings to train_recipe. train_recipe reads the TrainingConfig part of `config`,
    and where the task has them patience, micro_batch and lr_decay (an exponential schedule)."""

    task: str  # config.json's "task"
    config: TrainingConfig
    make_model: Callable[[], torch.nn.Module]  # called once, right after torch.manual_seed(config.seed)
    batches: Callable[[int, torch.Generator], Iterable]  # (epoch, the run's shuffling generator) -> batches
    batch_loss: Callable  # fit()'s: (model, batch) -> (mean loss, {"count", "correct" (optional)})
    validate: Callable[[torch.nn.Module], dict]  # fit()'s: model -> held-out metrics, `monitor` among them
    monitor: str  # the held-out metric that picks the best epoch and stops early
    mode: str  # "max" or "min": which way `monitor` is better
    vocabulary: dict  # vocab.json, written when the run starts
    facts: dict  # what config.json keeps beside the task and its config: data paths, sizes
    describe: str  # the data and vocabulary, logged before training starts (with the model's size)
    files: dict[str, str] = field(default_factory=dict)  # more text files written when the run starts
    on_epoch_start: Callable[[torch.nn.Module, int], None] | None = None
    optimizer_options: dict = field(default_factory=dict)  # make_optimizer's keyword arguments
    # model -> the optimizer's parameter groups ({"params", "lr"}: a learning rate each); None: one group at config.lr
    parameter_groups: Callable[[torch.nn.Module], list[dict]] | None = None


@dataclass
class Trained:
    """What run_training gives back: the history, the model holding the best weights, where, and the
    recipe it was trained with (its config and vocabulary, for the task's predictor)."""
    history: list[dict]
    model: torch.nn.Module
    run: RunDirectory
    device: torch.device
    recipe: Recipe


def run_training(task: str, config, out, prepare: Callable[[Any, RunDirectory, bool, torch.device], Recipe], *,
                 validate: Callable[[Any], None], resume: bool = False, device: str = "auto", progress: bool = True,
                 log=print) -> Trained:
    """Every task's training, the same way: `validate(config)` (SettingsError naming a bad setting), take
    the run directory (or resume it), check that training's dependencies are installed, then
    `prepare(config, run, resuming, device)` -> the task's Recipe, and train_recipe."""
    validate(config)
    target, run, resuming, config = start_run(out, config, task, resume, device)
    need_all(*NEEDS)
    recipe = prepare(config, run, resuming, target)
    history, model = train_recipe(recipe, run, resuming, target, progress=progress, log=log)
    return Trained(history, model, run, target, recipe)


def train_recipe(recipe: Recipe, run: RunDirectory, resuming: bool, target: torch.device, *, progress: bool = True,
                 log=print) -> tuple[list[dict], torch.nn.Module]:
    """Builds the model, writes the run's files, fits -> (history, the model holding the best weights)."""
    config = recipe.config
    torch.manual_seed(config.seed)
    model = recipe.make_model().to(target)
    if not resuming:  # before config.json, whose presence makes the folder a run to resume
        run.save_vocab(recipe.vocabulary)
        for name, text in recipe.files.items():
            run.save_text(name, text)
    run.save_config({"task": recipe.task, "lstmkit": __version__, **recipe.facts,
                     "config": dataclasses.asdict(config)})
    log(f"{recipe.describe}; {sum(p.numel() for p in model.parameters()):,} parameters on {target}")
    generator = torch.Generator().manual_seed(config.seed)
    parameters = recipe.parameter_groups(model) if recipe.parameter_groups else model.parameters()
    optimizer = make_optimizer(config.optimizer, parameters, config.lr, **recipe.optimizer_options)
    decay = getattr(config, "lr_decay", None)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, decay) if decay is not None else None
    micro_batch = getattr(config, "micro_batch", None)
    options = FitOptions(epochs=config.epochs, monitor=recipe.monitor, mode=recipe.mode,
                         patience=getattr(config, "patience", None), clip_norm=config.clip_norm, ema=config.ema,
                         max_seconds=config.minutes * 60 if config.minutes else None, progress=progress,
                         micro_batch=micro_batch if target.type == "cpu" else None)
    on_epoch_start = recipe.on_epoch_start
    history = fit(model, optimizer, batches=lambda epoch: recipe.batches(epoch, generator),
                  batch_loss=recipe.batch_loss, validate=recipe.validate, options=options, run=run,
                  generator=generator, resume=resuming, scheduler=scheduler,
                  on_epoch_start=(lambda epoch: on_epoch_start(model, epoch)) if on_epoch_start else None)
    return history, model


def run_list(run_paths) -> list:
    """One run directory (a str or Path), or several (an ensemble), as a list."""
    return [run_paths] if isinstance(run_paths, (str, Path)) else list(run_paths)


def load_trained(run_path, task: str, config_class, read_vocabulary: Callable[[dict, RunDirectory], Any],
                 make_model: Callable[[Any, Any], torch.nn.Module], device: str = "cpu"):
    """A trained run of `task` -> (model in eval mode on `device`, vocabulary, config, run).
    read_vocabulary(vocab.json's data, run) -> the vocabulary; make_model(config, vocabulary).
    `run_path` may name an installed model (catalogue.py)."""
    run = RunDirectory(located(run_path))
    config = config_class(**run.load_task_config(task, config_class))
    vocabulary = run.load_vocab(lambda data: read_vocabulary(data, run))
    model = run.load_weights(make_model(config, vocabulary))
    return model.to(resolve_device(device)).eval(), vocabulary, config, run
