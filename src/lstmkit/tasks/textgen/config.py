"""The settings of a char model's run, and its presets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ...training.loop import check_training_config
from ...training.recipe import TrainingConfig
from . import LIMITS
from .chars import LECTURE_SEGMENT

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
    limits: ClassVar = LIMITS  # the allowed range of each number (check_settings)


PRESETS = {
    "lecture": TextgenConfig(mode="lecture"),
    # many small updates early (docs/RESULTS.md, text generation)
    "fast": TextgenConfig(mode="fast", hidden=256, layers=1, embedding_dim=32, optimizer="adam", lr=4e-3,
                          batch_size=32, window=64, epochs=30, lr_decay=0.95),
}


def validate_config(config: TextgenConfig) -> None:
    check_training_config(config, choices={"mode": ("lecture", "fast")})
