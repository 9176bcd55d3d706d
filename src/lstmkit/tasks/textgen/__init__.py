"""Character-level text generation: the lecture's Nietzsche model, and a faster way to train it.

    chars (batch, time) -> one-hot (or an Embedding) -> LSTM x layers -> Dense(vocab) logits

Two training modes:
  lecture  the lecture's (60-char segment, next char) pairs at stride 3, many-to-one, one-hot,
           LSTM(128), RMSprop 0.01, batch 128
  fast     every position of a window predicts its next character (many-to-many, truncated
           back-propagation through time): a window of 100 gives 100 targets for one pass
Both are scored the same way on the held-out tail of the text: the mean of -ln p(next char | the
60 characters before it) (nats/char; bits/char = nats / ln 2), over every `stride`-th position
after each epoch of training and over every position by `textgen evaluate`.
"""

from ...limits import LIMITS as COMMON_LIMITS
from ...settings import limits_of
from ..base import Task, lazy, lazy_exports
from .config import TextgenConfig

LIMITS = {**COMMON_LIMITS, **limits_of(TextgenConfig)}

TASK = Task(
    name="textgen", title="Generation", help="character-level text generation (the lecture's Nietzsche model)",
    load=lazy(f"{__name__}.generator", "open_generator"), add_commands=lazy(f"{__name__}.cli", "add_verbs"),
    more_commands=lazy(f"{__name__}.cli", "add_demo"), module=__name__, limits=LIMITS,
    service=lazy(f"{__name__}.service", "service"), panel="panel", ensemble=True)

__getattr__ = lazy_exports(__name__, {
    "TextgenConfig": "config", "PRESETS": "config", "LECTURE_SEED": "config", "CONTEXT": "config",
    "validate_config": "config", "CharModel": "model", "held_out_nats": "model", "known_ids": "model",
    "prepare_text": "training", "epoch_batches": "training", "batch_loss_on": "training", "train": "training",
    "evaluate": "generator", "TextGenerator": "generator", "load": "generator"})
