"""Sentiment (text classification): the lecture's IMDB model and its variants, as a tool.

    Embedding(num_words, dim) -> [LSTM | SimpleRNN | GRU](units) x layers (optionally
    bidirectional) -> last state, or max/mean over time -> Dense(1, sigmoid) | Dense(K, softmax)

The model returns logits; the sigmoid/softmax is applied by the loss and by predict().
"""

from ...limits import LIMITS as COMMON_LIMITS
from ...settings import limits_of
from ..base import Task, lazy, lazy_exports
from .config import SentimentConfig

LIMITS = {**COMMON_LIMITS, **limits_of(SentimentConfig)}

TASK = Task(
    name="sentiment", title="Sentiment", help="text classification (the lecture's IMDB model)",
    load=lazy(f"{__name__}.classifier", "SentimentClassifier.load"), add_commands=lazy(f"{__name__}.cli", "add_verbs"),
    module=__name__, limits=LIMITS, service=lazy(f"{__name__}.service", "service"), panel="panel",
    ensemble=True)

__getattr__ = lazy_exports(__name__, {
    "SentimentClassifier": "classifier", "evaluate": "classifier", "load": "classifier",
    "ADAM_EPS": "config", "POOLING": "config", "PRESETS": "config", "RECURRENT": "model", "RNN_TYPES": "config",
    "SentimentConfig": "config", "validate_config": "config",
    "Prepared": "data", "batches_of": "data", "pretrain_word_vectors": "data", "split_validation": "data",
    "SentimentModel": "model", "loss_and_correct": "model", "predict_logits": "model", "probabilities": "model",
    "batch_loss_on": "training", "train": "training", "WordLanguageModel": "pretraining", "pretrain": "pretraining"})
