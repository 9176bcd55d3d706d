"""The lecture's models, layer for layer, with an example input for each (for summaries and benchmarks).

The parameter counts these must give are the lecture's (see docs/MODELS.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from .nn import LSTM, Bidirectional, Dense, Embedding, SimpleRNN

NUM_WORDS = 10_000  # IMDB vocabulary: the 10,000 most frequent words
EMBEDDING_DIM = 32
MAXLEN = 500  # words per review after cutting/padding
UNITS = 32
CHARS = 57  # distinct characters of the lowercased Nietzsche text
SEGMENT = 60  # characters per training segment
CHAR_UNITS = 128


@dataclass(frozen=True)
class LectureModel:
    description: str
    build: Callable[[], nn.Module]
    example: Callable[[], torch.Tensor]  # an input batch of one


def _imdb_example():
    return torch.zeros(1, MAXLEN, dtype=torch.long)


def _imdb(recurrent: nn.Module, features: int, *, frozen: bool = False) -> nn.Module:
    embedding = Embedding(NUM_WORDS, EMBEDDING_DIM, trainable=not frozen)
    return nn.Sequential(embedding, recurrent, Dense(features, 1, activation="sigmoid"))


LECTURE_MODELS = {
    "imdb-lstm": LectureModel("Embedding(10000, 32) -> LSTM(32) -> Dense(1, sigmoid)",
                        lambda: _imdb(LSTM(EMBEDDING_DIM, UNITS), UNITS), _imdb_example),
    "imdb-simplernn": LectureModel("Embedding(10000, 32) -> SimpleRNN(32) -> Dense(1, sigmoid)",
                             lambda: _imdb(SimpleRNN(EMBEDDING_DIM, UNITS), UNITS), _imdb_example),
    "imdb-stacked": LectureModel("Embedding(10000, 32) -> 3 x LSTM(32, dropout 0.2) -> Dense(1, sigmoid)",
                           lambda: _imdb(nn.Sequential(
                               LSTM(EMBEDDING_DIM, UNITS, return_sequences=True, dropout=0.2),
                               LSTM(UNITS, UNITS, return_sequences=True, dropout=0.2),
                               LSTM(UNITS, UNITS, dropout=0.2)), UNITS), _imdb_example),
    "imdb-bilstm": LectureModel("Embedding(10000, 32) -> Bidirectional(LSTM(32)) -> Dense(1, sigmoid)",
                          lambda: _imdb(Bidirectional(LSTM(EMBEDDING_DIM, UNITS, dropout=0.2)), 2 * UNITS),
                          _imdb_example),
    "imdb-pretrained": LectureModel("as imdb-bilstm, with a pretrained embedding frozen",
                              lambda: _imdb(Bidirectional(LSTM(EMBEDDING_DIM, UNITS, dropout=0.2)), 2 * UNITS,
                                            frozen=True), _imdb_example),
    "char-lstm": LectureModel("one-hot 57 chars -> LSTM(128) -> Dense(57, softmax)",
                        lambda: nn.Sequential(LSTM(CHARS, CHAR_UNITS), Dense(CHAR_UNITS, CHARS, activation="softmax")),
                        lambda: torch.zeros(1, SEGMENT, CHARS)),
}
