"""Pretraining a classifier's layers as a language model (Dai & Le's SA-LSTM, ULMFiT's first step):
the embedding and recurrent layers of a sentiment model read the unlabelled and training texts and
learn to predict each next word (a bidirectional layer's backward half: each previous word). The
run is a "sentiment-lm" run; `sentiment train --init-from RUN` starts a classifier from its layers."""

from __future__ import annotations

import dataclasses
import math
from functools import partial

import torch
from torch import nn

from ...dependencies import need
from ...errors import DataError, SettingsError
from ...nn import Embedding
from ...nn.recurrent import time_mask
from ...text.vocabulary import Vocabulary
from ...text.words import IMDB_SPECIALS
from ...training import distributed
from ...training.recipe import Recipe, best_epoch, run_training
from ...training.run import LAST
from . import vectors
from .config import ADAM_EPS, SentimentConfig, validate_config
from .data import Prepared, batches_of, encode_last, pretrained_matrix, sized_for_vectors
from .model import recurrent_layers
from .readers import read_labelled, read_unlabelled

LANGUAGE_MODEL = "sentiment-lm"  # the run's task in config.json
CUTOFFS = (250, 1_000, 4_000, 16_000, 64_000, 256_000)  # the adaptive softmax's clusters' first ids
VALIDATION_TEXTS = 1_000  # held out to pick the best epoch (at most a tenth of the texts)
# settings a classifier has and a language model lacks
CLASSIFIER_ONLY = ("init_from", "adversarial", "gradual_unfreezing", "discriminative_lr", "embedding_lr",
                   "trainable_words", "train_texts")


class WordLanguageModel(nn.Module):
    """A classifier's embedding and recurrent layers (SentimentModel's names, so that a classifier starts
    from them) under a language model's outputs: an adaptive softmax (Grave et al.: frequent words
    cheap) per direction. states: ids (batch, time), lengths (batch,) -> (batch, time, units · directions)."""

    def __init__(self, config: SentimentConfig, vocabulary_size: int):
        super().__init__()
        self.units = config.units
        self.embedding = Embedding(vocabulary_size, config.embedding_dim, trainable=not config.freeze_embedding)
        self.recurrent = recurrent_layers(config, every_step=True)
        # the 250 most frequent words in the head, the rest in clusters 4x larger each: the softmax over
        # the last cluster is most of the cost (30,000 words: half that of cutoffs 1,875 and 7,500)
        cutoffs = [cut for cut in CUTOFFS if cut < vocabulary_size - 1] or [vocabulary_size // 2]
        shrink = 2.0 if config.units >= 2 ** len(cutoffs) else 1.0  # each rarer cluster's projection half as wide
        self.heads = nn.ModuleList(
            nn.AdaptiveLogSoftmaxWithLoss(config.units, vocabulary_size, cutoffs, div_value=shrink)
            for _ in range(2 if config.bidirectional else 1))

    def states(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        x = self.embedding(ids)
        for layer in self.recurrent:
            x = layer(x, lengths=lengths)
        return x


def language_model_loss(model: WordLanguageModel, ids: torch.Tensor,
                        lengths: torch.Tensor) -> tuple[torch.Tensor, int]:
    """-> (the summed negative log-likelihood in nats, the number of words predicted): the forward
    states at each word predict the word after it, the backward states the word before it; padding
    (after each text's `lengths` words) is neither read as a word nor predicted."""
    states = model.states(ids, lengths)
    follows = time_mask(lengths, ids.shape[1], ids.device)[:, 1:]  # a word with a word before it
    total = states.new_zeros(())
    for direction, head in enumerate(model.heads):
        part = states[..., direction * model.units:(direction + 1) * model.units]
        source, target = (part[:, :-1], ids[:, 1:]) if direction == 0 else (part[:, 1:], ids[:, :-1])
        total = total - head(source[follows], target[follows]).output.sum()
    return total, int(follows.sum()) * len(model.heads)


def validate_pretraining(config: SentimentConfig) -> None:
    validate_config(config)
    if given := [name for name in CLASSIFIER_ONLY if getattr(config, name) not in (None, 0, 0.0, False)]:
        raise SettingsError(given[0], "is a classifier's setting; a language model is pretrained without it")
    if config.bidirectional and config.layers > 1:  # a second layer's forward half would read the words it predicts
        raise SettingsError("layers", f"pretraining a bidirectional model takes one layer (above it, each "
                                      f"direction reads the other's states, which have seen the words to "
                                      f"predict), got {config.layers}")


def language_texts(data_path, unlabelled, text_column, label_column, log) -> tuple[list[str], list[str]]:
    """-> (the training texts of `data_path`, never its test texts; the unlabelled texts: aclImdb's
    train/unsup of `unlabelled`, else of `data_path` if it has them)."""
    splits = read_labelled(data_path, text_column=text_column, label_column=label_column)
    training = list((splits.get("train") or splits["all"]).texts)
    try:
        return training, read_unlabelled(unlabelled or data_path)
    except DataError:
        if unlabelled is not None:
            raise
        log(f"{data_path}: no unlabelled texts; the language model reads the training texts only")
        return training, []


def prepare(config: SentimentConfig, run, resuming: bool, target: torch.device, *, data_path, unlabelled=None,
            text_column=None, label_column=None, log=print) -> Recipe:
    """run_training's prepare: the training and unlabelled texts, their vocabulary and pretrained
    vectors, VALIDATION_TEXTS of them held out -> the language model's Recipe."""
    pretraining = config.pretrained and not (resuming and run.file(LAST).is_file())
    if pretraining:
        need("gensim.models", vectors.FEATURE)
        config = sized_for_vectors(config, log)
    training, others = language_texts(data_path, unlabelled, text_column, label_column, log)
    texts = others + training
    vocabulary = (run.load_vocab(Vocabulary.from_json) if resuming
                  else Vocabulary.fit(texts, "imdb", specials=IMDB_SPECIALS, max_size=config.num_words))
    pretrained = None
    if pretraining and distributed.is_main():  # else the checkpoint has it, or process 0 sends it
        pretrained = pretrained_matrix(config, vocabulary, data_path, training, unlabelled, log)
    sequences = [ids for text in texts if len(ids := encode_last(vocabulary, text, config.maxlen)) > 1]
    if len(sequences) < 2:
        raise DataError(f"{data_path}: {len(sequences)} texts of two words or more; expected at least two "
                        f"(one trains, one validates)")
    order = torch.randperm(len(sequences), generator=torch.Generator().manual_seed(config.seed)).tolist()
    held = max(1, min(VALIDATION_TEXTS, len(sequences) // 10))
    parts = [Prepared([sequences[i] for i in rows], rows) for rows in (order[held:], order[:held])]
    return _recipe(dataclasses.replace(config, batching="length"), vocabulary, pretrained, *parts, target,
                   {"data": str(data_path), "texts": len(sequences)})


def pretrain(config: SentimentConfig, data_path, out, *, resume: bool = False, device: str = "auto",
             text_column=None, label_column=None, unlabelled=None, progress: bool = True, log=print) -> dict:
    """Trains a language model with `config`'s embedding and recurrent layers on `data_path`'s
    training and unlabelled texts into the run directory `out` -> {"history", "validation": {"loss"
    (nats a word), "perplexity", "epoch"}} of the best epoch."""
    prepared = partial(prepare, data_path=data_path, unlabelled=unlabelled, text_column=text_column,
                       label_column=label_column, log=log)
    trained = run_training(LANGUAGE_MODEL, config, out, prepared, validate=validate_pretraining, resume=resume,
                           device=device, progress=progress, log=log)
    best = best_epoch(trained.history)
    return {"history": trained.history, "validation": {"loss": best.get("val_loss"),
                                                         "perplexity": best.get("val_perplexity"),
                                                         "epoch": best.get("epoch")}}


def _recipe(config: SentimentConfig, vocabulary: Vocabulary, pretrained, train_data: Prepared,
            validation_data: Prepared, target: torch.device, facts: dict) -> Recipe:
    validation_batches = batches_of(validation_data, config)

    def make_model():
        model = WordLanguageModel(config, vocabulary.size)
        if pretrained is not None:
            model.embedding.load_pretrained(pretrained)
        return model

    def batch_loss(model, batch):
        ids, lengths, _ = batch
        total, count = language_model_loss(model, ids.to(target), lengths.to(target))
        return total / count, {"count": count}

    def validate(model):
        model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for ids, lengths, _ in validation_batches:
                loss, predicted = language_model_loss(model, ids.to(target), lengths.to(target))
                total, count = total + loss.item(), count + predicted
        return {"val_loss": total / count, "val_perplexity": math.exp(total / count)}

    return Recipe(
        LANGUAGE_MODEL, config, make_model, batches=lambda epoch, generator: batches_of(train_data, config, generator),
        batch_loss=batch_loss, validate=validate, monitor="val_loss", mode="min", vocabulary=vocabulary.to_json(),
        facts=facts, describe=f"a language model on {len(train_data):,} texts ({len(validation_data):,} held out); "
                              f"vocabulary {vocabulary.size:,}",
        optimizer_options={"adam_eps": ADAM_EPS})
