"""Sequence-to-sequence translation (English -> another language): the lecture's char model and
its four improvements, each a switch.

    source ids (batch, S) -> one-hot or Embedding -> encoder LSTM x layers (or Bi-LSTM)
        -> final (h, c) of each layer start the decoder's layer of the same depth
    target ids '\\t' y1 y2 ... (batch, T) -> one-hot or Embedding -> decoder LSTM x layers
        [-> Luong attention over the encoder outputs] -> Dense(vocab) logits for y1 y2 ... '\\n'

Teacher forcing in training: the decoder reads the true previous token. At inference it reads its
own previous prediction, from the start token until the stop token or a length guard (greedy or
beam search: generation/search.py).
Multi-task (`also`): one shared English encoder, one decoder per target language.
Attention is Luong's "general" score without input feeding: the decoder LSTM runs on its own, so
training stays one fused pass over all steps; each step's output then attends over the encoder
outputs and is combined with its context vector: tanh(W_c [context; h_t]).
"""

from ...limits import LIMITS as COMMON_LIMITS
from ...limits import Limit, whole
from ...settings import limits_of
from ..base import Task, lazy, lazy_exports
from .config import TranslateConfig

LIMITS = {**COMMON_LIMITS, **limits_of(TranslateConfig),
          "beam": whole(1, 64),  # decoding's, not the config's
          "alpha": Limit(0, 10),
          "examples": whole(0, 10_000)}

TASK = Task(
    name="translate", title="Translation", help="sequence-to-sequence translation (the lecture's English->German)",
    load=lazy(f"{__name__}.translator", "open_translator"), add_commands=lazy(f"{__name__}.cli", "add_verbs"),
    module=__name__, limits=LIMITS, service=lazy(f"{__name__}.service", "service"), panel="panel")

__getattr__ = lazy_exports(__name__, {
    "LECTURE_EXAMPLES": "config", "PRESETS": "config", "TranslateConfig": "config", "validate_config": "config",
    "preprocess": "data", "read_corpus": "data", "split_key": "data", "Seq2Seq": "model", "train": "training",
    "Translator": "translator", "evaluate": "translator", "group_references": "translator",
    "held_out_pairs": "translator", "load": "translator", "plot_attention": "translator", "score": "translator"})
