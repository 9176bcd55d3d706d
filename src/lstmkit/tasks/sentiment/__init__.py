"""Sentiment (text classification): the lecture's IMDB model and its variants, as a tool.

    Embedding(num_words, dim) -> [LSTM | SimpleRNN | GRU](units) x layers (optionally
    bidirectional) -> last state, or max/mean over time -> Dense(1, sigmoid) | Dense(K, softmax)

The model returns logits; the sigmoid/softmax is applied by the loss and by predict().
"""

from .classifier import SentimentClassifier, evaluate, load
from .config import ADAM_EPS, POOLING, PRESETS, RECURRENT, SentimentConfig, validate_config
from .data import Prepared, batches_of, pretrain_word_vectors, split_validation
from .model import SentimentModel, loss_and_correct, predict_logits, probabilities
from .training import batch_loss_on, train

__all__ = ["ADAM_EPS", "POOLING", "PRESETS", "RECURRENT", "Prepared", "SentimentClassifier", "SentimentConfig",
           "SentimentModel", "batch_loss_on", "batches_of", "evaluate", "load", "loss_and_correct", "predict_logits",
           "pretrain_word_vectors", "probabilities", "split_validation", "train", "validate_config"]
