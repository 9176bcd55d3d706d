"""The optimizers the tasks offer: --optimizer rmsprop|adam."""

from __future__ import annotations

from typing import Iterable

import torch

from ..errors import SettingsError
from ..settings import OPTIMIZERS



def make_optimizer(name: str, parameters: Iterable, lr: float, *,
                   adam_eps: float = 1e-8) -> torch.optim.Optimizer:
    """RMSprop with Keras's defaults (ρ 0.9, ε 1e-7, as the lecture trains), or Adam (fused: one pass
    over each tensor per step). torch adds ε after the square root, as Keras 2 did; Keras 3 adds it
    inside, which made no difference to the lecture's IMDB accuracy over 16 seeds (docs/RESULTS.md).
    `parameters`: tensors, or torch's parameter groups (dicts; a group's "lr" overrides `lr`)."""
    if name == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=lr, alpha=0.9, eps=1e-7)
    if name == "adam":
        return torch.optim.Adam(parameters, lr=lr, eps=adam_eps, fused=True)
    raise SettingsError("optimizer", f"must be one of {', '.join(OPTIMIZERS)}, got {name!r}")
