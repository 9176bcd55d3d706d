"""Character-level text generation: the lecture's Nietzsche model, and a faster way to train it.

    chars (batch, time) -> one-hot (or an Embedding) -> LSTM x layers -> Dense(vocab) logits

Two training modes:
  lecture  the lecture's (60-char segment, next char) pairs at stride 3, many-to-one, one-hot,
           LSTM(128), RMSprop 0.01, batch 128
  fast     every position of a window predicts its next character (many-to-many, truncated
           back-propagation through time): a window of 100 gives 100 targets for one pass
Both are scored the same way on the held-out tail of the text: the mean of -ln p(next char | the
60 characters before it) over every position (nats/char; bits/char = nats / ln 2).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn

from ..data import nietzsche_path
from ..dependencies import need_all
from ..errors import DataError
from ..inspection import Inspection, inspect_layers
from ..limits import check
from ..nn import LSTM, Dense, Embedding
from ..sampling import StatefulSampler, sampling_options, stepwise
from ..text.chars import (LECTURE_SEGMENT, lecture_starts, one_hot, read_text, segment_batches, split_held_out,
                          window_batches)
from ..text.vocabulary import Vocabulary
from ..training.loop import NEEDS, check_training_config
from ..training.recipe import Recipe, TrainingConfig, best_epoch, load_trained, start_run, train_recipe

CONTEXT = LECTURE_SEGMENT  # characters of context for the held-out score
LECTURE_SEED = "immediately disclose what it really is--namely, a will to the"


@dataclass(frozen=True)
class TextgenConfig(TrainingConfig):  # frozen: the presets are values no training can change
    mode: str = "fast"  # "lecture" or "fast"
    lowercase: bool = True
    segment: int = LECTURE_SEGMENT  # lecture mode: characters per sample
    stride: int = 3  # lecture mode: characters between samples
    window: int = 100  # fast mode: characters per window (truncated BPTT length)
    embedding_dim: int = 0  # 0: one-hot inputs, as the lecture
    hidden: int = 128
    layers: int = 1
    dropout: float = 0.0
    lr_decay: float = 1.0  # learning rate multiplied by this after every epoch
    held_out: float = 0.1  # the last 10% of the text scores the model
    # TrainingConfig's, with this task's defaults
    lr: float = 0.01
    epochs: int = 2
    clip_norm: float | None = 5.0


PRESETS = {
    "lecture": TextgenConfig(mode="lecture"),
    # many small updates early (docs/RESULTS.md, text generation)
    "fast": TextgenConfig(mode="fast", hidden=256, layers=1, embedding_dim=32, optimizer="adam", lr=4e-3,
                          batch_size=32, window=64, epochs=30, lr_decay=0.95),
}


def validate_config(config: TextgenConfig) -> None:
    check_training_config(config, choices={"mode": ("lecture", "fast")})


class CharModel(nn.Module):
    """ids (batch, time) -> logits (batch, time, vocab), or (batch, vocab) for the last step only."""

    def __init__(self, config: TextgenConfig, vocab: int):
        super().__init__()
        self.vocab = vocab
        self.embedding = Embedding(vocab, config.embedding_dim) if config.embedding_dim else None
        sizes = [config.embedding_dim or vocab] + [config.hidden] * config.layers
        self.recurrent = nn.ModuleList(LSTM(sizes[i], config.hidden, return_sequences=True,
                                            dropout=config.dropout) for i in range(config.layers))
        self.output = Dense(config.hidden, vocab)

    def input_table(self) -> torch.Tensor:
        """(vocab, input features): what each character feeds the first LSTM layer."""
        if self.embedding is not None:
            return self.embedding.weight.detach()
        return torch.eye(self.vocab, device=self.output.weight.device)  # one-hot inputs

    def forward(self, ids: torch.Tensor, last_only: bool = False) -> torch.Tensor:
        x = self.embedding(ids) if self.embedding is not None else one_hot(ids, self.vocab)
        for index, layer in enumerate(self.recurrent):
            if last_only and index == len(self.recurrent) - 1:
                x = layer.outputs_and_state(x)[1][0]  # the last step's h only: (batch, hidden)
            else:
                x = layer(x)
        return self.output(x)

    def sampler(self) -> StatefulSampler:
        return StatefulSampler(self.input_table(), list(self.recurrent), self.output)


def held_out_nats(model: CharModel, ids: torch.Tensor, device, context: int = CONTEXT, stride: int = 1,
                  batch_size: int = 1024) -> float:
    """Mean -ln p(next char | the `context` chars before it) over the positions of `ids`."""
    starts = torch.arange(0, len(ids) - context, stride)
    if len(starts) == 0:
        raise DataError(f"the held-out text has {len(ids)} characters; scoring needs more than {context}")
    total = 0.0
    model.eval()
    with torch.no_grad():
        for segments, targets in segment_batches(ids, starts, context, batch_size):
            logits = model(segments.to(device), last_only=True)
            total += nn.functional.cross_entropy(logits, targets.to(device), reduction="sum").item()
    return total / len(starts)


def known_ids(vocabulary: Vocabulary, text: str) -> torch.Tensor:
    """(len,) long ids of the characters of `text` the vocabulary has (the others left out)."""
    return torch.tensor(vocabulary.encode(text, skip_unknown=True), dtype=torch.long)


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


class _Epoch:
    """One epoch's batches, made on the fly, with a length for the progress bar."""

    def __init__(self, make, count):
        self.make, self.count = make, count

    def __iter__(self):
        return self.make()

    def __len__(self):
        return self.count


def epoch_batches(config: TextgenConfig, train_ids: torch.Tensor):
    """batches(epoch, generator) for the recipe: lecture pairs or fast-mode windows, made on the fly."""
    if config.mode == "lecture":
        starts = lecture_starts(len(train_ids), config.segment, config.stride)
        count = math.ceil(len(starts) / config.batch_size)
        return lambda epoch, generator: _Epoch(
            lambda: segment_batches(train_ids, starts, config.segment, config.batch_size, generator), count)
    count = math.ceil((len(train_ids) - config.window) / config.window / config.batch_size)
    return lambda epoch, generator: _Epoch(
        lambda: window_batches(train_ids, config.window, config.batch_size, generator), count)


def batch_loss_on(config: TextgenConfig, vocab: int, device):
    """batch_loss(model, (inputs, targets)) -> (mean nats per predicted char, {"count"})."""
    def batch_loss(model, batch):
        x, y = batch
        logits = model(x.to(device), last_only=config.mode == "lecture")
        return nn.functional.cross_entropy(logits.reshape(-1, vocab), y.to(device).reshape(-1)), {"count": y.numel()}

    return batch_loss


def train(config: TextgenConfig, text_path=None, out=None, *, resume: bool = False, device: str = "auto",
          progress: bool = True, log=print) -> dict:
    """Trains on `text_path` (default: the shipped Nietzsche text) into the run directory `out`."""
    validate_config(config)
    target, run, resume, config = start_run(out, config, "textgen", resume, device)
    need_all(*NEEDS)
    text_path = text_path or nietzsche_path()
    vocabulary, train_ids, held_ids = prepare_text(
        text_path, config, run.load_vocab(Vocabulary.from_json) if resume else None)

    def validate(model):
        nats = held_out_nats(model, held_ids, target, stride=config.stride)
        return {"val_nats_per_char": nats, "val_bits_per_char": nats / math.log(2)}

    recipe = Recipe(
        "textgen", config, lambda: CharModel(config, vocabulary.size), batches=epoch_batches(config, train_ids),
        batch_loss=batch_loss_on(config, vocabulary.size, target), validate=validate, monitor="val_nats_per_char",
        mode="min", vocabulary=vocabulary.to_json(), facts={"text": str(text_path)},
        describe=f"{len(train_ids):,} training / {len(held_ids):,} held-out characters, {vocabulary.size} "
                 f"distinct; {config.mode} mode")
    history, _ = train_recipe(recipe, run, resume, target, progress=progress, log=log)
    return {"history": history, "best": best_epoch(history)}


def load(run_path, device: str = "cpu") -> tuple[CharModel, Vocabulary, TextgenConfig]:
    model, vocabulary, config, _ = load_trained(run_path, "textgen", TextgenConfig,
                                                lambda data, run: Vocabulary.from_json(data),
                                                lambda config, vocabulary: CharModel(config, vocabulary.size), device)
    return model, vocabulary, config


class TextGenerator:
    """A trained character model ready to write, with the weights as they are when it is made. Calls
    only read them (each has its own state and random numbers): threads may share one generator."""

    def __init__(self, model: CharModel, vocabulary: Vocabulary, config: TextgenConfig, name: str = "the model"):
        self.model, self.vocabulary, self.config, self.name = model, vocabulary, config, name
        self.sampler = model.sampler()  # its weight tables, laid out once for every call

    @classmethod
    def load(cls, run_path, device: str = "cpu") -> "TextGenerator":
        return cls(*load(run_path, device), name=str(run_path))

    def seed_ids(self, seed: str) -> torch.Tensor:
        """The seed's ids; characters the model never saw are left out (with a warning), and a seed
        with none it knows starts from a newline (or the first character)."""
        text = seed.lower() if self.config.lowercase else seed
        if unknown := self.vocabulary.unknown(text):
            warnings.warn(f"{self.name} never saw {''.join(unknown)!r} in training; left out of the text it reads",
                          stacklevel=3)
        ids = known_ids(self.vocabulary, text)
        return ids if len(ids) else torch.tensor([self.vocabulary.index.get("\n", 0)])

    def _start(self, seed: str, length: int, num: int, rng_seed: int | None):
        """-> (the seeds (num, time), the random generator) for one call."""
        check("length", length)
        check("num", num)
        generator = torch.Generator().manual_seed(rng_seed) if rng_seed is not None else None
        return self.seed_ids(seed)[None].repeat(num, 1), generator

    def generate(self, seed: str, length: int, *, strategy: str | None = None, temperature: float = 1.0,
                 top_k: int | None = None, top_p: float | None = None, num: int = 1,
                 rng_seed: int | None = None) -> Iterator[tuple[str, ...]]:
        """Yields, as they are made, `length` pieces of text after `seed`: a tuple of one piece per
        sample (`num` samples at once). top_k or top_p picks that strategy (see sampling_options)."""
        options = sampling_options(strategy, temperature, top_k, top_p)
        seeds, generator = self._start(seed, length, num, rng_seed)
        for token in stepwise(self.sampler.steps(seeds, length, options, generator)):
            yield tuple(self.vocabulary.decode(token[row: row + 1]) for row in range(num))

    def sample(self, seed: str, length: int, *, strategy: str | None = None, temperature: float = 1.0,
               top_k: int | None = None, top_p: float | None = None, num: int = 1, rng_seed: int | None = None,
               on_text=None) -> list[str]:
        """`num` whole samples of `length` characters after `seed` in one fast pass: the text
        generate() gives for the same rng_seed. `on_text(str)` receives the first sample's
        characters as they are made. It lowers torch's thread count while it runs (small steps
        are faster on one thread): call it from one thread at a time."""
        options = sampling_options(strategy, temperature, top_k, top_p)
        seeds, generator = self._start(seed, length, num, rng_seed)
        stream = (lambda token: on_text(self.vocabulary.decode(token[:1]))) if on_text else None
        generated = self.sampler.generate(seeds, length, options, generator, on_token=stream)
        return [self.vocabulary.decode(row) for row in generated]

    def inspect(self, text: str) -> Inspection:
        """Every LSTM layer's gates, candidate, cell state and output at each character of `text`
        (characters the model never saw are left out)."""
        ids = self.seed_ids(text)
        device = next(self.model.parameters()).device
        x = self.model.input_table().to(device)[ids.to(device)][None]
        return inspect_layers(self.model.recurrent, x, [self.vocabulary.decode(ids[t: t + 1]) for t in range(len(ids))],
                              "LSTM")


def evaluate(run_path, text_path, *, device: str = "auto") -> dict:
    """nats/char and bits/char of a trained run on a whole text (60-character context)."""
    model, vocabulary, config = load(run_path, device)
    text = read_text(text_path, lowercase=config.lowercase, min_chars=CONTEXT + 2)
    unknown = vocabulary.unknown(text)
    ids = known_ids(vocabulary, text)
    nats = held_out_nats(model, ids, next(model.parameters()).device)
    return {"nats_per_char": nats, "bits_per_char": nats / math.log(2), "characters": len(ids),
            "skipped_unknown_characters": len(text) - len(ids), "unknown": "".join(unknown)}
