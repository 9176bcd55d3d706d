"""The fit loop every task shares: progress bar, metrics, validation every epoch, best checkpoint,
early stopping, gradient clipping, a divergence guard, micro-batches, and resuming."""

from __future__ import annotations

import inspect
import math
import time
import warnings
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Sequence

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm.auto import tqdm

from ..errors import SettingsError, TrainingDiverged
from ..limits import check_settings
from ..nn import flush_denormals
from . import distributed, interrupts
from . import curves
from .curves import plot_curves
from .optimizers import OPTIMIZERS
from .run import BEST, CURVES, LAST, RunDirectory

Batch = Sequence  # a tuple of tensors whose first dimension is the batch (or None)
NEEDS = (("matplotlib.figure", curves.FEATURE),)  # what fit() imports later: check with need_all() first


@dataclass
class FitOptions:
    epochs: int
    monitor: str = "val_accuracy"  # a key of validate()'s result
    mode: str = "max"  # "max" or "min": which way is better
    patience: int | None = None  # stop after this many epochs without improvement
    clip_norm: float | None = None  # clip the gradient's global norm
    micro_batch: int | None = None  # run each batch in chunks of this many samples (same gradient)
    max_bad_steps: int = 20  # non-finite losses tolerated in one epoch before rolling back
    max_seconds: float | None = None  # stop training once this much training time has passed (mid-epoch too)
    ema: float | None = None  # validate and keep a moving average of the weights, decaying by this per step
    progress: bool = True


def check_training_config(config, choices: dict[str, Sequence[str]] | None = None) -> None:
    """Raises SettingsError naming the setting when the optimizer or one of the task's `choices`
    (setting -> the values it allows) is not allowed, or a number lies outside its limit (`limits.LIMITS`)."""
    for name, allowed in {"optimizer": OPTIMIZERS, **(choices or {})}.items():
        value = getattr(config, name, None)
        if value is not None and value not in allowed:
            raise SettingsError(name, f"must be one of {', '.join(allowed)}, got {value!r}")
    check_settings(config)


def _chunks(batch: Batch, size: int | None) -> list[Batch]:
    """Splits a batch into micro-batches of `size` samples."""
    count = next(len(part) for part in batch if part is not None)
    if not size or count <= size:
        return [batch]
    pieces = [part.split(size) if part is not None else None for part in batch]
    return [tuple(p[i] if p is not None else None for p in pieces) for i in range(math.ceil(count / size))]


def _better(value: float, best: float | None, mode: str) -> bool:
    return best is None or (value > best if mode == "max" else value < best)


def fit(model: torch.nn.Module, optimizer: torch.optim.Optimizer, *,
        batches: Callable[[int], list[Batch]],
        batch_loss: Callable[[torch.nn.Module, Batch], tuple[torch.Tensor, dict]],
        validate: Callable[[torch.nn.Module], dict],
        options: FitOptions, run: RunDirectory | None = None, generator: torch.Generator | None = None,
        resume: bool = False, on_epoch_start: Callable[[int], None] | None = None,
        scheduler: torch.optim.lr_scheduler.LRScheduler | None = None) -> list[dict]:
    """Trains `model` for options.epochs epochs and returns the history (one dict per epoch).

    batches(epoch) -> the epoch's batches; batch_loss(model, batch) -> (mean loss over its n items,
    samples or target tokens, {"count": n, "correct": k (optional)}); validate(model) -> {metric:
    value}, containing options.monitor.
    With a run directory: as soon as an epoch's steps are done its weights and trainer state are
    saved (last.safetensors, trainer.pt), so a failure while validating or plotting loses nothing
    (--resume validates that epoch first); after validation history.jsonl and curves.png, and
    model.safetensors whenever the monitored metric improves. `scheduler` steps after every
    epoch. At the end the model holds the best weights.
    With options.ema, an exponential moving average of the weights (torch's AveragedModel) follows
    every step; it is what is validated, saved as the best model and held at the end, while
    training (and last.safetensors, for resuming) goes on with the raw weights.
    Under torchrun the processes share each batch (see distributed.py); process 0 validates and
    writes the run directory.
    """
    averaged = (AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(options.ema), use_buffers=True)
                if options.ema else None)
    evaluated = averaged.module if averaged is not None else model  # what is validated and kept as best
    progress = _Progress()
    if resume and run is not None and run.file(LAST).is_file():
        progress = _restore(run, model, optimizer, scheduler, generator, averaged)
    device = next(model.parameters()).device
    distributed.share_from_main(model)
    main = distributed.is_main()
    options = replace(options, progress=options.progress and main)

    def trainer_state(pending: dict | None) -> dict:
        return {"epoch": pending["epoch"] if pending else len(progress.history), "optimizer": optimizer.state_dict(),
                "generator": generator.get_state() if generator is not None else torch.zeros(0),
                "torch_rng": torch.get_rng_state(), "best": progress.best, "best_epoch": progress.best_epoch,
                "bad_epochs": progress.bad_epochs, "history": progress.history, "pending": pending or {},
                "scheduler": scheduler.state_dict() if scheduler is not None else {},
                "average": averaged.state_dict() if averaged is not None else {}}

    def finish_epoch(row: dict) -> None:
        """Validates a trained epoch, keeps it if it is the best so far, and saves the rest."""
        if main:
            started = time.perf_counter()
            evaluated.eval()
            with torch.no_grad(), distributed.all_cores():
                row.update(validate(evaluated))
            row["val_seconds"] = round(time.perf_counter() - started, 2)
        row = distributed.from_main(row)  # so every process takes the same decisions
        progress.history.append(row)
        if _better(row[options.monitor], progress.best, options.mode):
            progress.best, progress.best_epoch, progress.bad_epochs = row[options.monitor], row["epoch"], 0
            if run is not None:
                run.save_weights(evaluated, BEST)
        else:
            progress.bad_epochs += 1
        row["best_epoch"] = progress.best_epoch
        if run is not None:
            run.save_trainer(trainer_state(None))
            run.save_history(progress.history)
            plot_curves(progress.history, run.file(CURVES))
        if options.progress:
            shown = {k: v for k, v in row.items() if k not in ("epoch", "best_epoch")}
            tqdm.write(f"epoch {row['epoch']}: " + ", ".join(f"{k} {v:.4g}" for k, v in shown.items()))

    # A Ctrl-C or SIGTERM is noted, and training stops where nothing is lost: after a step (see
    # train_epoch), or before the next epoch when it came while validating or saving.
    with flush_denormals(device.type == "cpu"), interrupts.deferred():
        if progress.pending:  # trained before the run stopped, not validated yet
            finish_epoch(progress.pending)
        for epoch in range(len(progress.history) + 1, options.epochs + 1):
            _stop_if_any_process_received()
            if options.patience is not None and progress.bad_epochs >= options.patience:
                break
            trained = sum(row["seconds"] for row in progress.history)
            if options.max_seconds is not None and progress.history and trained >= options.max_seconds:
                break
            if on_epoch_start is not None:
                on_epoch_start(epoch)
            budget = options.max_seconds - trained if options.max_seconds is not None else None
            distributed.seed_for_epoch(epoch, generator)
            row = {"epoch": epoch, **train_epoch(model, optimizer, batches(epoch), batch_loss, options, epoch, budget,
                                                 averaged)}
            if scheduler is not None:
                row["lr"] = optimizer.param_groups[0]["lr"]
                scheduler.step()
            distributed.share_from_main(model)  # guards against drift between unlike machines
            if run is not None:  # the trained epoch is on disk before anything else can fail
                run.save_checkpoint(model, trainer_state(row))
            finish_epoch(row)
        _stop_if_any_process_received()
    if main and run is not None and run.file(BEST).is_file():
        run.load_weights(model, BEST)
    elif averaged is not None:
        model.load_state_dict(averaged.module.state_dict())
    distributed.share_from_main(model)
    return progress.history


@dataclass
class _Progress:
    """What fit() carries from epoch to epoch, and saves in trainer.pt."""
    history: list[dict] = field(default_factory=list)  # one row per validated epoch
    best: float | None = None  # the best value of the monitored metric so far
    best_epoch: int = 0
    bad_epochs: int = 0  # epochs since the best
    pending: dict | None = None  # the row of an epoch trained but not validated when the run stopped


def _restore(run: RunDirectory, model, optimizer, scheduler, generator, averaged) -> _Progress:
    """Loads the checkpoint of `run` into the model, optimizer, scheduler and RNGs."""
    state = run.load_checkpoint(model)
    if averaged is not None:
        _resume_average(averaged, model, state)
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None:  # its progress; its settings stay those it was made with (--resume --lr-decay)
        made_with = {name: getattr(scheduler, name) for name in inspect.signature(type(scheduler)).parameters
                     if name not in ("optimizer", "last_epoch", "verbose")}
        scheduler.load_state_dict({**state["scheduler"], **made_with})
    if generator is not None:
        generator.set_state(state["generator"])
    torch.set_rng_state(state["torch_rng"])
    pending = state.get("pending") or None
    history = state.get("history", run.load_history()[: state["epoch"] - (1 if pending else 0)])  # older runs: the file
    return _Progress(history, state["best"], state["best_epoch"], state["bad_epochs"], pending)


def train_epoch(model, optimizer, batches: Iterable[Batch], batch_loss, options: FitOptions, epoch: int,
                seconds: float | None = None, averaged: AveragedModel | None = None) -> dict:
    """One pass over the batches, or as many as `seconds` allow -> {"loss", "accuracy" (if
    reported), "seconds", "skipped_steps", "stopped_early" (if the time ran out)}; `averaged`
    follows every step. Call it inside flush_denormals() on a CPU, as fit() does."""
    model.train()
    totals = {"loss": 0.0, "count": 0, "correct": 0}
    has_accuracy, skipped, skipped_before_rollback = False, 0, 0  # non-finite steps: all, and before the last rollback
    good_state = {key: value.detach().clone() for key, value in model.state_dict().items()}
    started = time.perf_counter()
    # iter() once here: tqdm.auto's class calls iter() on what it is given and then iterates it again,
    # which made a batches object such as textgen's draw its epoch's shuffle twice
    bar = tqdm(iter(batches), total=len(batches) if hasattr(batches, "__len__") else None, desc=f"epoch {epoch}",
               leave=False, disable=not options.progress, unit="batch")
    stopped_early = False
    time_up = False
    for batch in bar:
        if time_up:
            stopped_early = True
            break
        optimizer.zero_grad(set_to_none=True)
        batch_total, batch_stats = 0.0, {"count": 0, "correct": 0}
        mine = distributed.my_slice(batch)
        for part in _chunks(mine, options.micro_batch) if mine is not None else ():
            loss, stats = batch_loss(model, part)
            # summed, and divided by the whole batch's count below: the batch's mean, however it is cut
            (loss * stats["count"]).backward()
            batch_total += loss.item() * stats["count"]
            for key in batch_stats:
                batch_stats[key] += stats.get(key, 0)
            has_accuracy |= "correct" in stats
        time_up = seconds is not None and time.perf_counter() - started > seconds
        batch_total, batch_stats["count"], batch_stats["correct"], time_up = distributed.sum_gradients(
            model, [batch_total, batch_stats["count"], batch_stats["correct"], float(time_up)])
        interrupts.stop_if_received()  # every process alike: sum_gradients shared any signal
        for parameter in model.parameters():
            if parameter.grad is not None:
                parameter.grad /= batch_stats["count"]
        if not math.isfinite(batch_total):
            skipped += 1
            if skipped - skipped_before_rollback > options.max_bad_steps:
                _roll_back(model, optimizer, good_state)
                warnings.warn(f"epoch {epoch}: the loss was NaN or infinite in {options.max_bad_steps + 1} steps; "
                              "back to the weights the epoch started with, learning rate halved to "
                              f"{optimizer.param_groups[0]['lr']:.3g}", stacklevel=2)
                skipped_before_rollback = skipped
            continue
        if options.clip_norm:
            torch.nn.utils.clip_grad_norm_(model.parameters(), options.clip_norm)
        optimizer.step()
        if averaged is not None:
            averaged.update_parameters(model)
        totals["loss"] += batch_total
        for key in batch_stats:
            totals[key] += batch_stats[key]
        shown = {"loss": f"{totals['loss'] / max(totals['count'], 1):.4f}"}
        if has_accuracy:
            shown["acc"] = f"{totals['correct'] / max(totals['count'], 1):.4f}"
        bar.set_postfix(shown, refresh=False)
    result = {"loss": totals["loss"] / max(totals["count"], 1)}
    if has_accuracy:
        result["accuracy"] = totals["correct"] / max(totals["count"], 1)
    result["seconds"] = round(time.perf_counter() - started, 2)
    if skipped:
        result["skipped_steps"] = skipped
        if skipped > skipped_before_rollback:  # those since the last rollback were not told yet
            warnings.warn(f"epoch {epoch}: skipped {skipped - skipped_before_rollback} step(s) whose loss was NaN or "
                          "infinite", stacklevel=2)
    if stopped_early:
        result["stopped_early"] = True
    return result


def _stop_if_any_process_received() -> None:
    """KeyboardInterrupt in every process when any of them received a signal (all must call it)."""
    distributed.share_signals()
    interrupts.stop_if_received()


def _resume_average(averaged: AveragedModel, model, state: dict) -> None:
    """The saved average, or, for a run trained without --ema, one that starts at its last weights."""
    if state.get("average"):
        averaged.load_state_dict(state["average"])
    else:
        averaged.update_parameters(model)


def _roll_back(model, optimizer, good_state) -> None:
    """Divergence guard: back to the epoch's starting weights, learning rate halved."""
    model.load_state_dict(good_state)
    for group in optimizer.param_groups:
        group["lr"] /= 2
        if group["lr"] < 1e-8:
            raise TrainingDiverged("the loss stayed NaN/inf after lowering the learning rate below 1e-8")
