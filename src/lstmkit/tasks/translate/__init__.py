"""Sequence-to-sequence translation (English -> another language): the lecture's char model and
its four improvements, each a switch.

    source ids (batch, S) -> one-hot or Embedding -> encoder LSTM x layers (or Bi-LSTM)
        -> final (h, c) of each layer start the decoder's layer of the same depth
    target ids '\\t' y1 y2 ... (batch, T) -> one-hot or Embedding -> decoder LSTM x layers
        [-> Luong attention over the encoder outputs] -> Dense(vocab) logits for y1 y2 ... '\\n'

Teacher forcing in training: the decoder reads the true previous token. At inference it reads its
own previous prediction, from the start token until the stop token or a length guard (greedy or
beam search: decoding.py).
Multi-task (`also`): one shared English encoder, one decoder per target language.
Attention is Luong's "general" score without input feeding: the decoder LSTM runs on its own, so
training stays one fused pass over all steps; each step's output then attends over the encoder
outputs and is combined with its context vector: tanh(W_c [context; h_t]).
"""

from .config import LECTURE_EXAMPLES, PRESETS, TranslateConfig, validate_config
from .data import preprocess, read_corpus, split_key
from .model import Seq2Seq
from .training import train
from .translator import Translator, evaluate, group_references, held_out_pairs, load, plot_attention, score

__all__ = ["LECTURE_EXAMPLES", "PRESETS", "Seq2Seq", "TranslateConfig", "Translator", "evaluate", "group_references",
           "held_out_pairs", "load", "plot_attention", "preprocess", "read_corpus", "score", "split_key", "train",
           "validate_config"]
