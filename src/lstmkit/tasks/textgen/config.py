"""The settings of a char model's run, each declared once (settings.py), and its presets."""

from __future__ import annotations

from dataclasses import dataclass

from ...limits import LIMITS, Limit, whole
from ...settings import TrainingConfig, check_config, setting

LECTURE_SEGMENT = 60  # characters a lecture-mode sample reads
LECTURE_STRIDE = 3  # characters between the starts of two lecture-mode samples
CONTEXT = LECTURE_SEGMENT  # characters of context for the held-out score
LECTURE_SEED = "immediately disclose what it really is--namely, a will to the"


@dataclass(frozen=True)
class TextgenConfig(TrainingConfig):  # frozen: the presets are values no training can change
    mode: str = setting("fast", "how samples are cut from the text: lecture: 60-char pairs; fast: every position "
                                "of a window", choices=("lecture", "fast"))
    lowercase: bool = setting(True, "lower-case the text (the lecture's preprocessing)")
    segment: int = setting(LECTURE_SEGMENT, "lecture mode: characters per sample", limit=whole(1, 1_000_000))
    stride: int = setting(LECTURE_STRIDE, "characters between lecture-mode samples, and between the held-out positions "
                                          "scored after each epoch (1: every position)", limit=whole(1, 1_000_000))
    window: int = setting(100, "fast mode: characters per window (truncated back-propagation length)",
                          limit=whole(1, 1_000_000))
    embedding_dim: int = setting(0, "0: one-hot inputs", limit=LIMITS["embedding_dim"])
    hidden: int = setting(128, "units per LSTM layer", limit=LIMITS["hidden"])
    layers: int = setting(1, limit=LIMITS["layers"])
    dropout: float = setting(0.0, "input dropout of every LSTM layer", limit=LIMITS["dropout"])
    weight_drop: float = setting(0.0, "drop this share of every LSTM layer's recurrent weights, one mask a batch "
                                      "(AWD-LSTM's weight drop)", limit=LIMITS["dropout"])
    output_dropout: float = setting(0.0, "dropout on the last LSTM layer's outputs, one mask per sequence",
                                    limit=LIMITS["dropout"])
    lr_decay: float = setting(1.0, "learning rate x this after every epoch", limit=LIMITS["lr_decay"])
    held_out: float = setting(0.1, "fraction of the text's end held out to score the model",
                              limit=Limit(0, 1, open_low=True, open_high=True))
    # TrainingConfig's, with this task's defaults
    lr: float = 0.01
    epochs: int = 2
    clip_norm: float | None = 5.0


PRESETS = {
    "lecture": TextgenConfig(mode="lecture"),
    # many small updates early (docs/RESULTS.md, text generation)
    "fast": TextgenConfig(mode="fast", hidden=256, layers=1, embedding_dim=32, optimizer="adam", lr=4e-3,
                          batch_size=32, window=64, epochs=30, lr_decay=0.95),
    # the best measured in 10 minutes of 2 threads on a 1 MB text (docs/RESULTS.md, "A best preset for
    # ten minutes"): LSTM(512) over a 64-d embedding, input dropout 0.2, weights averaged. The 2 x 512
    # recipe of the best Nietzsche score (1.2646) needs 25 minutes and more to pay.
    "best": TextgenConfig(mode="fast", hidden=512, layers=1, embedding_dim=64, dropout=0.2, window=100,
                          batch_size=32, optimizer="adam", lr=2e-3, lr_decay=0.95, epochs=30, ema=0.99),
}


def validate_config(config: TextgenConfig) -> None:
    check_config(config)
