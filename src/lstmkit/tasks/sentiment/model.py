"""The classifier: an embedding, recurrent layers, pooling, and a dense output of logits."""

from __future__ import annotations

import torch
from torch import nn

from ...nn import GRU, LSTM, Bidirectional, Dense, Embedding, SimpleRNN
from ...nn.recurrent import time_mask
from .config import SentimentConfig

RECURRENT = {"lstm": LSTM, "simplernn": SimpleRNN, "gru": GRU}  # config.rnn -> its layer


class SentimentModel(nn.Module):
    """ids (batch, time) [+ lengths (batch,)] -> logits (batch, 1) for two classes, (batch, K) for K."""

    def __init__(self, config: SentimentConfig, vocabulary_size: int, num_classes: int):
        super().__init__()
        self.pooling = config.pooling
        self.embedding = Embedding(vocabulary_size, config.embedding_dim, trainable=not config.freeze_embedding)
        self.recurrent = recurrent_layers(config, every_step=config.pooling != "last")
        self.output = Dense(self.recurrent[-1].hidden_size, 1 if num_classes == 2 else num_classes)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        return self.classify(self.embedding(ids), lengths)

    def classify(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """The embedded words (batch, time, embedding_dim) -> logits: the model after its embedding."""
        for layer in self.recurrent:
            x = layer(x, lengths=lengths)
        if self.pooling != "last":  # x: (batch, time, features); padding must not count
            mask = (time_mask(lengths, x.shape[1], x.device) if lengths is not None
                    else torch.ones(x.shape[:2], dtype=torch.bool, device=x.device))
            if self.pooling == "max":
                x = x.masked_fill(~mask[..., None], float("-inf")).amax(1)
            else:
                x = (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return self.output(x)


def recurrent_layers(config: SentimentConfig, every_step: bool) -> nn.ModuleList:
    """config.layers recurrent layers over the embedding; the top one returns its state at every
    step if `every_step`, else its last (the lower ones always every step)."""
    layers, size = [], config.embedding_dim
    for index in range(config.layers):
        sequences = index < config.layers - 1 or every_step
        layer = RECURRENT[config.rnn](size, config.units, return_sequences=sequences, dropout=config.dropout)
        layers.append(Bidirectional(layer) if config.bidirectional else layer)
        size = config.units * (2 if config.bidirectional else 1)
    return nn.ModuleList(layers)


def loss_and_correct(logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Mean cross-entropy (binary on one logit, categorical on K) and the number right."""
    if logits.shape[1] == 1:
        loss = nn.functional.binary_cross_entropy_with_logits(logits[:, 0], targets.float())
        predictions = (logits[:, 0] > 0).long()
    else:
        loss = nn.functional.cross_entropy(logits, targets)
        predictions = logits.argmax(1)
    return loss, int((predictions == targets).sum())


def adversarial_loss(model: SentimentModel, ids, lengths, targets, share: float):
    """Adversarial training (Miyato, Dai & Goodfellow 2017) -> (loss on the words as they are + loss on
    their embeddings moved the way that raises the loss most, the number right on the words as they
    are). Each text moves by `share` of its embedded words' L2 norm, so that an embedding cannot
    outgrow the step (Miyato et al. normalise the embedding instead)."""
    embedded = model.embedding(ids)
    # the direction from a pass of its own: the recurrent lanes keep no graph for a second backward
    probe = embedded.detach().requires_grad_()
    gradient, = torch.autograd.grad(loss_and_correct(model.classify(probe, lengths), targets)[0], probe)
    words = probe.detach()
    if lengths is not None:  # the norm of the real words only
        words = words * time_mask(lengths, ids.shape[1], ids.device)[..., None]
    scale = share * words.flatten(1).norm(dim=1) / gradient.flatten(1).norm(dim=1).clamp_min(1e-12)
    loss, correct = loss_and_correct(model.classify(embedded, lengths), targets)
    moved = embedded + scale[:, None, None] * gradient  # the step is a constant: no second-order terms
    return loss + loss_and_correct(model.classify(moved, lengths), targets)[0], correct


def probabilities(logits: torch.Tensor) -> torch.Tensor:
    """(batch, K) class probabilities from the model's logits."""
    if logits.shape[1] == 1:
        positive = torch.sigmoid(logits[:, 0])
        return torch.stack([1 - positive, positive], 1)
    return torch.softmax(logits, 1)


def predict_logits(model: SentimentModel, batches, device) -> tuple[torch.Tensor, torch.Tensor]:
    """-> (logits (n, ·), targets (n,)) over batches, in batch order."""
    model.eval()
    outputs, targets = [], []
    with torch.no_grad():
        for ids, lengths, target in batches:
            outputs.append(model(ids.to(device), None if lengths is None else lengths.to(device)).cpu())
            targets.append(target)
    return torch.cat(outputs), torch.cat(targets)
