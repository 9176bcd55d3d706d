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

from ..errors import TrainingDiverged
from ..nn import flush_denormals
from . import distributed, interrupts
from . import curves
from .curves import plot_curves
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
    training = _Training(model, optimizer, options, run, generator, scheduler)
    if resume and run is not None and run.file(LAST).is_file():
        training.restore()
    device = next(model.parameters()).device
    distributed.share_from_main(model)
    # A Ctrl-C or SIGTERM is noted, and training stops where nothing is lost: after a step (see
    # train_epoch), or before the next epoch when it came while validating or saving.
    with flush_denormals(device.type == "cpu"), interrupts.deferred():
        if training.progress.pending:  # trained before the run stopped, not validated yet
            training.finish_epoch(training.progress.pending, validate)
        for epoch in range(len(training.progress.history) + 1, options.epochs + 1):
            _stop_if_any_process_received()
            if training.should_stop():
                break
            if on_epoch_start is not None:
                on_epoch_start(epoch)
            training.finish_epoch(training.train(epoch, batches, batch_loss), validate)
        _stop_if_any_process_received()
    training.keep_best()
    return training.progress.history


@dataclass
class _Progress:
    """What fit() carries from epoch to epoch, and saves in trainer.pt."""
    history: list[dict] = field(default_factory=list)  # one row per validated epoch
    best: float | None = None  # the best value of the monitored metric so far
    best_epoch: int = 0
    bad_epochs: int = 0  # epochs since the best
    pending: dict | None = None  # the row of an epoch trained but not validated when the run stopped


class _Training:
    """One fit() call: the model and what trains it, the weights validated (the model, or its
    moving average), the run directory it saves to, and its progress."""

    def __init__(self, model, optimizer, options: FitOptions, run: RunDirectory | None, generator, scheduler):
        self.model, self.optimizer, self.run = model, optimizer, run
        self.generator, self.scheduler = generator, scheduler
        self.averaged = (AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(options.ema), use_buffers=True)
                         if options.ema else None)
        self.evaluated = self.averaged.module if self.averaged is not None else model  # validated, kept as best
        self.main = distributed.is_main()
        self.options = replace(options, progress=options.progress and self.main)
        self.progress = _Progress()

    def restore(self) -> None:
        """Loads the run's checkpoint into the model, optimizer, scheduler, average and RNGs."""
        state = self.run.load_checkpoint(self.model)
        if self.averaged is not None:
            _resume_average(self.averaged, self.model, state)
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None:  # its progress; its settings stay those it was made with (--resume --lr-decay)
            scheduler = self.scheduler
            made_with = {name: getattr(scheduler, name) for name in inspect.signature(type(scheduler)).parameters
                         if name not in ("optimizer", "last_epoch", "verbose")}
            scheduler.load_state_dict({**state["scheduler"], **made_with})
        if self.generator is not None:
            self.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        pending = state.get("pending") or None
        # runs saved by older versions keep the history in its file only
        history = state.get("history", self.run.load_history()[: state["epoch"] - (1 if pending else 0)])
        self.progress = _Progress(history, state["best"], state["best_epoch"], state["bad_epochs"], pending)

    def state(self, pending: dict | None) -> dict:
        """trainer.pt: everything but the weights that resuming needs; `pending`: the row of an
        epoch trained but not validated yet."""
        progress = self.progress
        return {"epoch": pending["epoch"] if pending else len(progress.history),
                "optimizer": self.optimizer.state_dict(),
                "generator": self.generator.get_state() if self.generator is not None else torch.zeros(0),
                "torch_rng": torch.get_rng_state(), "best": progress.best, "best_epoch": progress.best_epoch,
                "bad_epochs": progress.bad_epochs, "history": progress.history, "pending": pending or {},
                "scheduler": self.scheduler.state_dict() if self.scheduler is not None else {},
                "average": self.averaged.state_dict() if self.averaged is not None else {}}

    def trained_seconds(self) -> float:
        return sum(row["seconds"] for row in self.progress.history)

    def should_stop(self) -> bool:
        """Patience or the time budget spent, before the next epoch."""
        options, progress = self.options, self.progress
        if options.patience is not None and progress.bad_epochs >= options.patience:
            return True
        time_spent = options.max_seconds is not None and self.trained_seconds() >= options.max_seconds
        return bool(progress.history) and time_spent

    def train(self, epoch: int, batches, batch_loss) -> dict:
        """Trains one epoch and saves it at once -> its history row (not validated yet)."""
        options = self.options
        budget = options.max_seconds - self.trained_seconds() if options.max_seconds is not None else None
        distributed.seed_for_epoch(epoch, self.generator)
        row = {"epoch": epoch, **train_epoch(self.model, self.optimizer, batches(epoch), batch_loss, options, epoch,
                                             budget, self.averaged)}
        if self.scheduler is not None:
            row["lr"] = self.optimizer.param_groups[0]["lr"]
            self.scheduler.step()
        distributed.share_from_main(self.model)  # guards against drift between unlike machines
        if self.run is not None:  # the trained epoch is on disk before anything else can fail
            self.run.save_checkpoint(self.model, self.state(row))
        return row

    def finish_epoch(self, row: dict, validate) -> None:
        """Validates a trained epoch, keeps it if it is the best so far, and saves the rest."""
        if self.main:
            started = time.perf_counter()
            self.evaluated.eval()
            with torch.no_grad(), distributed.all_cores():
                row.update(validate(self.evaluated))
            row["val_seconds"] = round(time.perf_counter() - started, 2)
        row = distributed.from_main(row)  # so every process takes the same decisions
        progress, run = self.progress, self.run
        progress.history.append(row)
        if _better(row[self.options.monitor], progress.best, self.options.mode):
            progress.best, progress.best_epoch, progress.bad_epochs = row[self.options.monitor], row["epoch"], 0
            if run is not None:
                run.save_weights(self.evaluated, BEST)
        else:
            progress.bad_epochs += 1
        row["best_epoch"] = progress.best_epoch
        if run is not None:
            run.save_trainer(self.state(None))
            run.save_history(progress.history)
            plot_curves(progress.history, run.file(CURVES))
        if self.options.progress:
            shown = {k: v for k, v in row.items() if k not in ("epoch", "best_epoch")}
            tqdm.write(f"epoch {row['epoch']}: " + ", ".join(f"{k} {v:.4g}" for k, v in shown.items()))

    def keep_best(self) -> None:
        """The model takes the best weights: saved, or the average's."""
        if self.main and self.run is not None and self.run.file(BEST).is_file():
            self.run.load_weights(self.model, BEST)
        elif self.averaged is not None:
            self.model.load_state_dict(self.averaged.module.state_dict())
        distributed.share_from_main(self.model)


def train_epoch(model, optimizer, batches: Iterable[Batch], batch_loss, options: FitOptions, epoch: int,
                seconds: float | None = None, averaged: AveragedModel | None = None) -> dict:
    """One pass over the batches, or as many as `seconds` allow -> {"loss", "accuracy" (if
    reported), "seconds", "skipped_steps", "stopped_early" (if the time ran out)}; `averaged`
    follows every step. Call it inside flush_denormals() on a CPU, as fit() does."""
    model.train()
    totals = _Totals()
    guard = _DivergenceGuard(model, optimizer, options.max_bad_steps, epoch)
    started = time.perf_counter()
    deadline = started + seconds if seconds is not None else None
    # iter() once here: tqdm.auto's class calls iter() on what it is given and then iterates it again,
    # which made a batches object such as textgen's draw its epoch's shuffle twice
    bar = tqdm(iter(batches), total=len(batches) if hasattr(batches, "__len__") else None, desc=f"epoch {epoch}",
               leave=False, disable=not options.progress, unit="batch")
    stopped_early = time_up = False
    for batch in bar:
        if time_up:
            stopped_early = True
            break
        batch_total, batch_stats, has_accuracy, time_up = _gradients(model, optimizer, batch, batch_loss,
                                                                     options.micro_batch, deadline)
        totals.has_accuracy |= has_accuracy
        if not math.isfinite(batch_total):
            guard.skip()
            continue
        if options.clip_norm:
            torch.nn.utils.clip_grad_norm_(model.parameters(), options.clip_norm)
        optimizer.step()
        if averaged is not None:
            averaged.update_parameters(model)
        totals.add(batch_total, batch_stats)
        bar.set_postfix(totals.shown(), refresh=False)
    result = totals.means()
    result["seconds"] = round(time.perf_counter() - started, 2)
    guard.report(result)
    if stopped_early:
        result["stopped_early"] = True
    return result


def _gradients(model, optimizer, batch: Batch, batch_loss, micro_batch: int | None, deadline: float | None):
    """Sets each parameter's .grad to the batch's mean gradient, summed over every process ->
    (summed loss, {"count", "correct"}, whether batch_loss reports accuracy, whether the time is up)."""
    optimizer.zero_grad(set_to_none=True)
    total, stats, has_accuracy = 0.0, {"count": 0, "correct": 0}, False
    mine = distributed.my_slice(batch)
    for part in _chunks(mine, micro_batch) if mine is not None else ():
        loss, part_stats = batch_loss(model, part)
        # summed, and divided by the whole batch's count below: the batch's mean, however it is cut
        (loss * part_stats["count"]).backward()
        total += loss.item() * part_stats["count"]
        for key in stats:
            stats[key] += part_stats.get(key, 0)
        has_accuracy |= "correct" in part_stats
    time_up = deadline is not None and time.perf_counter() > deadline
    total, stats["count"], stats["correct"], time_up = distributed.sum_gradients(
        model, [total, stats["count"], stats["correct"], float(time_up)])
    interrupts.stop_if_received()  # every process alike: sum_gradients shared any signal
    for parameter in model.parameters():
        if parameter.grad is not None:
            parameter.grad /= stats["count"]
    return total, stats, has_accuracy, bool(time_up)


class _Totals:
    """An epoch's summed loss, items and correct items over the steps taken."""

    def __init__(self):
        self.loss, self.count, self.correct, self.has_accuracy = 0.0, 0, 0, False

    def add(self, loss: float, stats: dict) -> None:
        self.loss += loss
        self.count += stats["count"]
        self.correct += stats["correct"]

    def shown(self) -> dict:
        """The progress bar's running means."""
        means = self.means()
        return {"loss": f"{means['loss']:.4f}", **({"acc": f"{means['accuracy']:.4f}"} if self.has_accuracy else {})}

    def means(self) -> dict:
        means = {"loss": self.loss / max(self.count, 1)}
        if self.has_accuracy:
            means["accuracy"] = self.correct / max(self.count, 1)
        return means


class _DivergenceGuard:
    """Skips steps whose loss is NaN or infinite; after more than `max_bad` of them since the last
    rollback, back to the weights the epoch started with, learning rate halved."""

    def __init__(self, model, optimizer, max_bad: int, epoch: int):
        self.model, self.optimizer, self.max_bad, self.epoch = model, optimizer, max_bad, epoch
        self.good_state = {key: value.detach().clone() for key, value in model.state_dict().items()}
        self.skipped = self.skipped_before_rollback = 0

    def skip(self) -> None:
        self.skipped += 1
        if self.skipped - self.skipped_before_rollback > self.max_bad:
            _roll_back(self.model, self.optimizer, self.good_state)
            warnings.warn(f"epoch {self.epoch}: the loss was NaN or infinite in {self.max_bad + 1} steps; back to the "
                          "weights the epoch started with, learning rate halved to "
                          f"{self.optimizer.param_groups[0]['lr']:.3g}", stacklevel=4)
            self.skipped_before_rollback = self.skipped

    def report(self, result: dict) -> None:
        """Adds "skipped_steps" to an epoch's result, with a warning for those not told yet."""
        if self.skipped:
            result["skipped_steps"] = self.skipped
            if self.skipped > self.skipped_before_rollback:
                warnings.warn(f"epoch {self.epoch}: skipped {self.skipped - self.skipped_before_rollback} step(s) "
                              "whose loss was NaN or infinite", stacklevel=4)


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
