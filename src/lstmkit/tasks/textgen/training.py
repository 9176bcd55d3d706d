"""Training a char model: the text, its held-out tail, the batches of either mode; the rest is
training/recipe.py's."""

from __future__ import annotations

import math
from functools import partial

import torch
from torch import nn

from ...data import nietzsche_path
from ...errors import DataError
from ...text.batching import Epoch
from ...text.vocabulary import Vocabulary
from ...training.recipe import Recipe, best_epoch, run_training
from .chars import lecture_starts, read_text, segment_batches, split_held_out, window_batches
from .config import CONTEXT, TextgenConfig, validate_config
from .model import CharModel, held_out_nats, known_ids


def prepare_text(path, config: TextgenConfig, vocabulary: Vocabulary | None = None):
    """-> (vocabulary, training ids, held-out ids)."""
    text = read_text(path, lowercase=config.lowercase, min_chars=2 * (CONTEXT + 1))
    vocabulary = vocabulary or Vocabulary.fit([text], "char", order="code point")
    ids = known_ids(vocabulary, text)
    train_ids, held_ids = split_held_out(ids, config.held_out)
    need = (config.segment if config.mode == "lecture" else config.window) + 1
    if len(train_ids) < need or len(held_ids) <= CONTEXT:
        raise DataError(f"{path}: {len(text):,} characters is too short: the training part needs at least "
                        f"{need} and the held-out part more than {CONTEXT}")
    return vocabulary, train_ids, held_ids


def epoch_batches(config: TextgenConfig, train_ids: torch.Tensor):
    """batches(epoch, generator) for the recipe: lecture pairs or fast-mode windows, made on the fly."""
    if config.mode == "lecture":
        starts = lecture_starts(len(train_ids), config.segment, config.stride)
        count = math.ceil(len(starts) / config.batch_size)
        return lambda epoch, generator: Epoch(
            lambda: segment_batches(train_ids, starts, config.segment, config.batch_size, generator), count)
    count = math.ceil((len(train_ids) - config.window) / config.window / config.batch_size)
    return lambda epoch, generator: Epoch(
        lambda: window_batches(train_ids, config.window, config.batch_size, generator), count)


def batch_loss_on(config: TextgenConfig, vocab: int, device):
    """batch_loss(model, (inputs, targets)) -> (mean nats per predicted char, {"count"})."""
    def batch_loss(model, batch):
        x, y = batch
        logits = model(x.to(device), last_only=config.mode == "lecture")
        return nn.functional.cross_entropy(logits.reshape(-1, vocab), y.to(device).reshape(-1)), {"count": y.numel()}

    return batch_loss


def prepare(config: TextgenConfig, run, resuming: bool, target: torch.device, *, text_path) -> Recipe:
    """run_training's prepare: the text's characters, batches and held-out score -> the char model's Recipe."""
    vocabulary, train_ids, held_ids = prepare_text(
        text_path, config, run.load_vocab(Vocabulary.from_json) if resuming else None)

    def validate(model):
        nats = held_out_nats(model, held_ids, target, stride=config.stride)
        return {"val_nats_per_char": nats, "val_bits_per_char": nats / math.log(2)}

    return Recipe(
        "textgen", config, lambda: CharModel(config, vocabulary.size), batches=epoch_batches(config, train_ids),
        batch_loss=batch_loss_on(config, vocabulary.size, target), validate=validate, monitor="val_nats_per_char",
        mode="min", vocabulary=vocabulary.to_json(), facts={"text": str(text_path)},
        describe=f"{len(train_ids):,} training / {len(held_ids):,} held-out characters, {vocabulary.size} "
                 f"distinct; {config.mode} mode")


def train(config: TextgenConfig, text_path=None, out=None, *, resume: bool = False, device: str = "auto",
          progress: bool = True, log=print) -> dict:
    """Trains on `text_path` (default: the shipped Nietzsche text) into the run directory `out`."""
    trained = run_training("textgen", config, out, partial(prepare, text_path=text_path or nietzsche_path()),
                           validate=validate_config, resume=resume, device=device, progress=progress, log=log)
    return {"history": trained.history, "best": best_epoch(trained.history)}
