"""The translation task's settings and their presets."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

from ...errors import SettingsError
from ...training.loop import check_training_config
from ...training.recipe import TrainingConfig
from . import LIMITS

LECTURE_EXAMPLES = ("go to sleep", "do you agree", "we will fight")


@dataclass(frozen=True)
class TranslateConfig(TrainingConfig):  # frozen: the presets are values no training can change
    limits: ClassVar = LIMITS  # the allowed range of each number (check_settings)
    level: str = "char"  # "char" (one-hot characters, the lecture) or "word" (word embeddings)
    encoder: str = "lstm"  # "lstm" or "bilstm" (each direction hidden/2 units; decoder state = both joined)
    attention: bool = False
    hidden: int = 256
    embedding_dim: int = 0  # 0: one-hot inputs at char level, WORD_EMBEDDING at word level
    layers: int = 1
    dropout: float = 0.0  # input dropout of every LSTM layer, one mask per sequence
    lowercase: bool = True  # the lecture's preprocessing
    strip_punctuation: bool = True
    max_length: int = 0  # training pairs with a longer side (in tokens) are left out; 0: keep all
    source_vocab: int = 20_000  # most frequent tokens kept per language (word level matters)
    target_vocab: int = 20_000
    also: list[str] = field(default_factory=list)  # more <lang>-eng files: multi-task, one decoder each
    lr_decay: float = 1.0  # learning rate multiplied by this after every epoch
    patience: int | None = 3  # epochs without a better validation BLEU before stopping
    split_seed: int = 0
    test_pairs: int = 5000  # ≈ pairs of the main file held out for test
    validation_pairs: int = 2000
    bleu_sentences: int = 1000  # validation sentences translated for the BLEU of every epoch
    bf16_output: bool = False  # training: the output layer's matrix products in bfloat16 (~3.5x faster on a CPU)
    # TrainingConfig's, with this task's defaults
    batch_size: int = 64
    clip_norm: float | None = 5.0


PRESETS = {
    # the lecture: char tokens, lower-case, no punctuation, one-hot, LSTM(256) encoder and decoder,
    # RMSprop, batch 64 (keras.io's lstm_seq2seq shapes)
    "lecture": TranslateConfig(),
    # all four improvements but multi-task, on text as written (case and punctuation kept)
    "best": TranslateConfig(level="word", encoder="bilstm", attention=True, hidden=256, embedding_dim=256,
                            lowercase=False, strip_punctuation=False, source_vocab=12_000, target_vocab=16_000,
                            optimizer="adam", lr=2e-3, lr_decay=0.8, batch_size=64, epochs=15, dropout=0.1,
                            bf16_output=True),
}


WORD_EMBEDDING = 256  # word ids go through an embedding; the best preset's size


def with_defaults(config: TranslateConfig) -> TranslateConfig:
    """The config with the defaults that depend on other settings filled in: a word-level model
    without an embedding size gets WORD_EMBEDDING."""
    if config.level == "word" and not config.embedding_dim:
        return dataclasses.replace(config, embedding_dim=WORD_EMBEDDING)
    return config


def validate_config(config: TranslateConfig) -> None:
    check_training_config(config, choices={"level": ("char", "word"), "encoder": ("lstm", "bilstm")})
    if config.encoder == "bilstm" and config.hidden % 2:
        raise SettingsError("hidden", f"must be even with the bilstm encoder (each direction gets half), "
                            f"got {config.hidden}")
