"""The sentiment task's settings and their presets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from ...errors import SettingsError
from ...nn import GRU, LSTM, SimpleRNN
from ...training.loop import check_training_config
from ...training.recipe import TrainingConfig
from . import LIMITS

RECURRENT = {"lstm": LSTM, "simplernn": SimpleRNN, "gru": GRU}
ADAM_EPS = 1e-7  # Keras's Adam ε, as the lecture trains
POOLING = ("last", "max", "mean")


@dataclass(frozen=True)
class SentimentConfig(TrainingConfig):  # frozen: the presets are values no training can change
    limits: ClassVar = LIMITS  # the allowed range of each number (check_settings)
    num_words: int = 10_000  # vocabulary size, padding and unknown-word ids included
    maxlen: int = 500  # words kept per text (its last maxlen)
    embedding_dim: int = 32
    rnn: str = "lstm"
    units: int = 32
    layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0  # Keras-style input dropout of every recurrent layer
    pooling: str = "last"  # what the classifier sees: the last state, or max/mean over time
    pretrained: str | None = None  # "word2vec" (trained on the unlabelled texts) or a vectors file
    freeze_embedding: bool = False
    unfreeze_after: int | None = None  # make a frozen embedding trainable from this epoch on
    val_split: float = 0.2  # taken from the training texts, never from the test texts
    val_by_group: bool = False  # validation holds whole groups (aclImdb: movies), no group on both sides
    patience: int | None = None
    monitor: str = "val_accuracy"  # what picks the best checkpoint: "val_accuracy" or "val_loss" (Keras's default)
    batching: str = "length"  # "length": similar lengths together, real words only; "padded": the lecture's
    micro_batch: int | None = 32  # run a batch in chunks of this size: same gradient, faster on CPU
    classes: list[str] = field(default_factory=list)  # from the training labels, sorted


PRESETS = {
    # Deep Learning with Python 6.2 / the lecture: Embedding(10000, 32) -> LSTM(32) -> Dense(1, sigmoid),
    # RMSprop 1e-3, batch 128, 20% validation, 10 epochs.
    "lecture": SentimentConfig(),
    # The best recipe measured here (docs/RESULTS.md).
    # Word2vec vectors (128-d, trained on the 50,000 unlabelled + training reviews) kept frozen,
    # a Bi-LSTM(64) reading up to 1,000 words, max-pooled over time.
    "best": SentimentConfig(num_words=30_000, maxlen=1_000, embedding_dim=128, units=64, bidirectional=True,
                            pooling="max", pretrained="word2vec", freeze_embedding=True, optimizer="adam", lr=2e-3,
                            batch_size=64, epochs=30, dropout=0.4, clip_norm=1.0),
}


def validate_config(config: SentimentConfig) -> None:
    check_training_config(config, choices={"rnn": tuple(RECURRENT), "pooling": POOLING,
                                           "batching": ("length", "padded"), "monitor": ("val_accuracy", "val_loss")})
    if config.embedding_dim < 1:
        raise SettingsError("embedding_dim", f"must be at least 1 (words go through an embedding), "
                                             f"got {config.embedding_dim}")
