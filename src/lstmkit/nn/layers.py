"""The non-recurrent layers of the lecture's models: Embedding (pretrained, frozen) and Dense."""

from __future__ import annotations

import torch
from torch import nn

ACTIVATIONS = {
    None: lambda x: x,
    "sigmoid": torch.sigmoid,
    "softmax": lambda x: torch.softmax(x, -1),
    "tanh": torch.tanh,
    "relu": torch.relu,
}


def one_hot(ids: torch.Tensor, size: int) -> torch.Tensor:
    """(...,) long ids -> (..., size) float32: the lecture's input encoding of characters."""
    return torch.nn.functional.one_hot(ids, size).float()


class Embedding(nn.Embedding):
    """Embedding(num_embeddings, embedding_dim, *, weights=None, trainable=True).

    Token ids (batch, time) -> vectors (batch, time, embedding_dim). `weights` loads a pretrained
    (num_embeddings, embedding_dim) matrix; `trainable=False` freezes it, and its parameters then
    count as non-trainable in `summary`. Initialised as Keras does: uniform in [-0.05, 0.05].
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, *, weights=None, trainable: bool = True):
        for name, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        super().__init__(num_embeddings, embedding_dim)
        self.fixed_from: int | None = None  # rows from this id on never train (fix_rows_from)
        self._fixed_rows_hooked = False
        if weights is not None:
            self.load_pretrained(weights)
        self.trainable = trainable

    @classmethod
    def from_pretrained(cls, weights, trainable: bool = False) -> "Embedding":
        weights = torch.as_tensor(weights)
        if weights.dim() != 2:
            raise ValueError(f"pretrained weights must be a (num_embeddings, embedding_dim) matrix, "
                             f"got shape {tuple(weights.shape)}")
        return cls(weights.shape[0], weights.shape[1], weights=weights, trainable=trainable)

    def reset_parameters(self):
        nn.init.uniform_(self.weight, -0.05, 0.05)

    def load_pretrained(self, weights):
        """Copies a (num_embeddings, embedding_dim) matrix into the layer."""
        weights = torch.as_tensor(weights, dtype=self.weight.dtype)
        if tuple(weights.shape) != tuple(self.weight.shape):
            raise ValueError(f"pretrained weights must have shape {tuple(self.weight.shape)} "
                             f"(num_embeddings, embedding_dim), got {tuple(weights.shape)}")
        with torch.no_grad():
            self.weight.copy_(weights)

    @property
    def trainable(self) -> bool:
        return self.weight.requires_grad

    @trainable.setter
    def trainable(self, value: bool):
        self.weight.requires_grad_(bool(value))
        self._hook_fixed_rows()

    def freeze(self) -> "Embedding":
        self.trainable = False
        return self

    def unfreeze(self) -> "Embedding":
        self.trainable = True
        return self

    def fix_rows_from(self, first: int) -> "Embedding":
        """Rows first.. never move in training, even while the layer trains: their gradient is zeroed
        (Adam, RMSprop and SGD without weight decay then leave them as they are)."""
        self.fixed_from = first
        self._hook_fixed_rows()
        return self

    def _hook_fixed_rows(self):
        # torch hooks only a tensor that requires grad: hooked once the layer first trains
        if self.fixed_from is None or not self.weight.requires_grad or self._fixed_rows_hooked:
            return

        def zero_fixed_rows(weight: torch.Tensor):  # in place on .grad: no copy of the whole matrix a step
            weight.grad[self.fixed_from:] = 0
        self.weight.register_post_accumulate_grad_hook(zero_fixed_rows)
        self._fixed_rows_hooked = True

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        if ids.is_floating_point():
            raise ValueError(f"Embedding expects integer token ids, got {ids.dtype}")
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.num_embeddings):
            raise ValueError(f"Embedding expects token ids in [0, {self.num_embeddings - 1}], "
                             f"got {int(ids.min())}..{int(ids.max())}")
        return super().forward(ids)

    def extra_repr(self) -> str:
        return super().extra_repr() + ("" if self.trainable else ", trainable=False")


class Dense(nn.Linear):
    """Dense(in_features, out_features, activation=None): Keras's Dense, a Linear layer and an optional
    activation ("sigmoid", "softmax", "tanh", "relu"). Glorot-uniform weights, zero bias."""

    def __init__(self, in_features: int, out_features: int, activation: str | None = None):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(a for a in ACTIVATIONS if a)} or None, "
                             f"got {activation!r}")
        self.activation = activation
        super().__init__(in_features, out_features)

    def reset_parameters(self):
        nn.init.xavier_uniform_(self.weight)
        nn.init.zeros_(self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ACTIVATIONS[self.activation](super().forward(x))

    def extra_repr(self) -> str:
        return super().extra_repr() + (f", activation={self.activation!r}" if self.activation else "")
