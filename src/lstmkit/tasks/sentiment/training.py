"""Training a sentiment run: read and split the texts, the vocabulary, pretrained vectors; the
rest is training/recipe.py's."""

from __future__ import annotations

import dataclasses
import warnings
from functools import partial

import torch

from ...catalogue import located
from ...dependencies import need
from ...errors import DataError
from ...text.vocabulary import Vocabulary
from ...text.words import IMDB_SPECIALS
from ...training import distributed
from ...training.recipe import Recipe, best_epoch, run_training
from ...training.run import LAST, RunDirectory
from . import vectors
from .classifier import SentimentClassifier
from .config import ADAM_EPS, SentimentConfig, validate_config
from .data import (FEW_VALIDATION_TEXTS, Prepared, batches_of, pretrained_matrix, sample_texts, sized_for_vectors,
                   split_validation)
from .model import SentimentModel, adversarial_loss, loss_and_correct, predict_logits
from .pretraining import LANGUAGE_MODEL, WordLanguageModel
from .readers import read_labelled


def batch_loss_on(device: torch.device, adversarial: float = 0.0):
    """batch_loss(model, (ids, lengths, targets)) -> (mean loss, {"count", "correct"}), for fit();
    with `adversarial` > 0, adversarial training's loss with steps of that share (adversarial_loss)."""
    def batch_loss(model, batch):
        ids, lengths, targets = (None if part is None else part.to(device) for part in batch)
        if adversarial:
            loss, correct = adversarial_loss(model, ids, lengths, targets, adversarial)
        else:
            loss, correct = loss_and_correct(model(ids, lengths), targets)
        return loss, {"count": len(targets), "correct": correct}

    return batch_loss


def prepare(config: SentimentConfig, run, resuming: bool, target: torch.device, *, splits: dict, data_path,
            unlabelled=None, log=print) -> Recipe:
    """run_training's prepare: the training texts of `splits` (read_labelled's) split for validation,
    the vocabulary (fitted, saved, or the run config.init_from names), pretrained vectors -> the
    classifier's Recipe."""
    starting = config.init_from is not None and not resuming
    if starting:
        config, vocabulary, initial = start_from(config, log)
    pretraining = config.pretrained and not config.init_from and not (resuming and run.file(LAST).is_file())
    if pretraining:
        need("gensim.models", vectors.FEATURE)
        config = sized_for_vectors(config, log)
    training_texts = splits.get("train") or splits["all"]
    train_part, validation_part, config = _split(training_texts, config)
    # label-free, so all training texts count (as Keras's IMDB pipeline does); never the test texts
    if not starting:
        vocabulary = (run.load_vocab(Vocabulary.from_json) if resuming
                      else Vocabulary.fit(training_texts.texts, "imdb", specials=IMDB_SPECIALS,
                                          max_size=config.num_words))
    pretrained = None
    # else the checkpoint has it; the other processes get process 0's vectors as training starts
    if pretraining and distributed.is_main():
        pretrained = pretrained_matrix(config, vocabulary, data_path, train_part.texts, unlabelled, log)
    train_data = Prepared.labelled(train_part, vocabulary, config.classes, config.maxlen)
    validation_data = Prepared.labelled(validation_part, vocabulary, config.classes, config.maxlen)
    return _recipe(config, vocabulary, pretrained, initial if starting else None, train_data, validation_data,
                   target, {"data": str(data_path), "training_texts": training_texts.fingerprint()})


def train(config: SentimentConfig, data_path, out, *, resume: bool = False, device: str = "auto",
          text_column=None, label_column=None, group_column=None, unlabelled=None, progress: bool = True,
          log=print) -> dict:
    """Trains on `data_path` into the run directory `out`; returns {"history", "validation",
    "test" (if the data has a test split)} with the best checkpoint's metrics."""
    splits = read_labelled(data_path, text_column=text_column, label_column=label_column, group_column=group_column)
    trained = run_training("sentiment", config, out, partial(prepare, splits=splits, data_path=data_path,
                                                             unlabelled=unlabelled, log=log),
                           validate=validate_config, resume=resume, device=device, progress=progress, log=log)
    best = best_epoch(trained.history)
    result = {"history": trained.history,
              "validation": {"accuracy": best.get("val_accuracy"), "epoch": best.get("epoch")}}
    if "test" in splits and distributed.is_main():
        with distributed.all_cores():  # the other processes have finished
            members = [(trained.model, Vocabulary.from_json(trained.recipe.vocabulary), trained.recipe.config)]
            result["test"] = SentimentClassifier(members).report(splits["test"])
    return result


def _recipe(config: SentimentConfig, vocabulary, pretrained, initial: dict | None, train_data: Prepared,
            validation_data: Prepared, target: torch.device, facts: dict) -> Recipe:
    """The sentiment model (starting from `initial`'s tensors, its output layer only for the same
    classes), its batches, loss and validation for train_recipe."""
    validation_batches = batches_of(validation_data, config, batch_size=512)

    def make_model():
        model = SentimentModel(config, vocabulary.size, len(config.classes))
        if pretrained is not None:
            model.embedding.load_pretrained(pretrained)
        if config.trainable_words is not None:
            model.embedding.fix_rows_from(config.trainable_words)
        if initial is not None:  # the output layer only where it says the same classes
            own = model.state_dict()
            taken = {name: tensor for name, tensor in initial["tensors"].items()
                     if name in own and (initial["classes"] == config.classes or not name.startswith("output."))}
            model.load_state_dict({**own, **taken})
        return model

    def validate(model):
        logits, targets = predict_logits(model, validation_batches, target)
        loss, correct = loss_and_correct(logits, targets)
        return {"val_loss": loss.item(), "val_accuracy": correct / len(targets)}

    def on_epoch_start(model, epoch):
        if config.gradual_unfreezing:  # epoch 1 the output only, epoch 2 the top layer too, ..., the embedding last
            for depth, layer in enumerate(reversed(model.recurrent), start=1):
                layer.requires_grad_(epoch > depth)
            model.embedding.trainable = not config.freeze_embedding and epoch > len(model.recurrent) + 1
        if config.unfreeze_after is not None and epoch > config.unfreeze_after:
            model.embedding.unfreeze()

    return Recipe(
        "sentiment", config, make_model, batches=lambda epoch, generator: batches_of(train_data, config, generator),
        batch_loss=batch_loss_on(target, config.adversarial), validate=validate, monitor=config.monitor,
        mode="min" if config.monitor == "val_loss" else "max", vocabulary=vocabulary.to_json(),
        facts=facts, describe=f"{len(train_data):,} training / {len(validation_data):,} validation texts, classes "
                              f"{', '.join(config.classes)}; vocabulary {vocabulary.size:,}",
        on_epoch_start=on_epoch_start, optimizer_options={"adam_eps": ADAM_EPS},
        parameter_groups=layer_rates(config) if config.discriminative_lr or config.embedding_lr else None)


def layer_rates(config: SentimentConfig):
    """model -> parameter groups: the output layer at config.lr, each layer below it (the recurrent
    layers from the top, then the embedding) at the rate above divided by config.discriminative_lr
    (1 when not given); the embedding at config.embedding_lr when given."""
    def groups(model: SentimentModel) -> list[dict]:
        layers = [model.output, *reversed(model.recurrent), model.embedding]
        rates = [config.lr / (config.discriminative_lr or 1) ** depth for depth in range(len(layers))]
        if config.embedding_lr is not None:
            rates[-1] = config.embedding_lr
        return [{"params": list(layer.parameters()), "lr": rate} for layer, rate in zip(layers, rates)]

    return groups


SHAPE = ("num_words", "embedding_dim", "rnn", "units", "layers", "bidirectional", "pooling")  # what weights fit


def start_from(config: SentimentConfig, log) -> tuple[SentimentConfig, Vocabulary, dict]:
    """The run `config.init_from` names, a classifier's or a pretrained language model's (pretraining.py)
    -> (config with its model's shape, its vocabulary, {"classes", "tensors": its weights by name}).
    Its output layer is taken only for the same classes (_recipe); a language model has none."""
    source = RunDirectory(located(config.init_from))
    pretrained = source.load_config().get("task") == LANGUAGE_MODEL
    saved = source.load_task_config(LANGUAGE_MODEL if pretrained else "sentiment", SentimentConfig)
    vocabulary = source.load_vocab(Vocabulary.from_json)
    shaped = SentimentConfig(**saved)
    model = source.load_weights(WordLanguageModel(shaped, vocabulary.size) if pretrained
                                else SentimentModel(shaped, vocabulary.size, len(shaped.classes)))
    changed = [f"`{name}` {saved[name]}" for name in SHAPE if saved[name] != getattr(config, name)]
    log(f"starting from {config.init_from}: its vocabulary ({vocabulary.size:,}) and "
        + ("its language model's embedding and recurrent layers" if pretrained else "weights")
        + (f"; its shape: {', '.join(changed)}" if changed else ""))
    initial = {"classes": shaped.classes, "tensors": model.state_dict()}
    return dataclasses.replace(config, **{name: saved[name] for name in SHAPE}), vocabulary, initial


def _split(training_texts, config: SentimentConfig):
    """-> (training part, validation part, the config with the texts' classes). DataError for a
    single class; a warning when few texts pick the best epoch."""
    labelled = sample_texts(training_texts, config.train_texts, config.seed) if config.train_texts else training_texts
    train_part, validation_part = split_validation(labelled, config.val_split, config.seed, config.val_by_group)
    config = dataclasses.replace(config, classes=training_texts.classes)
    if len(validation_part.texts) < FEW_VALIDATION_TEXTS:
        warnings.warn(f"{training_texts.source}: only {len(validation_part.texts)} validation texts, so the best "
                      f"epoch is picked on a few texts; more training texts or a larger `val_split` steady it",
                      stacklevel=3)
    if len(config.classes) < 2:
        raise DataError(f"{training_texts.source}: only one class ({config.classes[0]!r}); expected two or more")
    return train_part, validation_part, config
