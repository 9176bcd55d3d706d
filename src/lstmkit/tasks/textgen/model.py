"""The char model, and its held-out score."""

from __future__ import annotations

import torch
from torch import nn

from ...errors import DataError
from ...nn import LSTM, Dense, Embedding
from ...nn.recurrent import sequence_dropout
from ...generation.ensemble import EnsembleSteps, averaged_log_probabilities
from ...generation.language_model import LanguageModelSteps
from ...text.vocabulary import Vocabulary
from .chars import segment_batches
from .config import CONTEXT, TextgenConfig


class CharModel(nn.Module):
    """ids (batch, time) -> logits (batch, time, vocab), or (batch, vocab) for the last step only."""

    def __init__(self, config: TextgenConfig, vocab: int):
        super().__init__()
        self.vocab = vocab
        self.embedding = Embedding(vocab, config.embedding_dim) if config.embedding_dim else None
        sizes = [config.embedding_dim or vocab] + [config.hidden] * config.layers
        self.recurrent = nn.ModuleList(LSTM(sizes[i], config.hidden, return_sequences=True, dropout=config.dropout,
                                            weight_drop=config.weight_drop) for i in range(config.layers))
        self.output = Dense(config.hidden, vocab)
        self.output_dropout = config.output_dropout

    def input_table(self) -> torch.Tensor:
        """(vocab, input features): what each character feeds the first LSTM layer."""
        if self.embedding is not None:
            return self.embedding.weight.detach()
        return torch.eye(self.vocab, device=self.output.weight.device)  # one-hot inputs

    def forward(self, ids: torch.Tensor, last_only: bool = False) -> torch.Tensor:
        x = self.embedding(ids) if self.embedding is not None else ids  # the LSTM reads ids as one-hot vectors
        for index, layer in enumerate(self.recurrent):
            if last_only and index == len(self.recurrent) - 1:
                x = layer.outputs_and_state(x)[1][0]  # the last step's h only: (batch, hidden)
            else:
                x = layer(x)
        if self.training and self.output_dropout:  # one mask per sequence, as the layers' input dropout
            x = sequence_dropout(x, self.output_dropout)
        return self.output(x)

    def sampler(self) -> LanguageModelSteps:
        return LanguageModelSteps(self.input_table(), list(self.recurrent), self.output)


class CharEnsemble(nn.Module):
    """Char models of one vocabulary whose next-character probabilities are averaged: ids (batch,
    time) -> log of the averaged probabilities, in CharModel's shapes (logits whose softmax is the
    average)."""

    def __init__(self, members: list[CharModel]):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, ids: torch.Tensor, last_only: bool = False) -> torch.Tensor:
        return averaged_log_probabilities([member(ids, last_only) for member in self.members])

    def sampler(self) -> EnsembleSteps:
        return EnsembleSteps([member.sampler() for member in self.members])


def held_out_nats(model: CharModel | CharEnsemble, ids: torch.Tensor, device, context: int = CONTEXT,
                  stride: int = 1, batch_size: int = 1024) -> float:
    """Mean -ln p(next char | the `context` chars before it) over the positions of `ids`."""
    starts = torch.arange(0, len(ids) - context, stride)
    if len(starts) == 0:
        raise DataError(f"the held-out text has {len(ids)} characters; scoring needs more than {context}")
    total = 0.0
    model.eval()
    with torch.no_grad():
        for segments, targets in segment_batches(ids, starts, context, batch_size):
            logits = model(segments.to(device), last_only=True)
            total += nn.functional.cross_entropy(logits, targets.to(device), reduction="sum").item()
    return total / len(starts)


def known_ids(vocabulary: Vocabulary, text: str) -> torch.Tensor:
    """(len,) long ids of the characters of `text` the vocabulary has (the others left out)."""
    return torch.tensor(vocabulary.encode(text, skip_unknown=True), dtype=torch.long)
