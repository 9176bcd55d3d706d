"""The one interface every decoder offers: start on a prompt, then one step at a time.

A model that makes sequences (the char model, a translator's decoder) keeps one row of state per
sequence being made, and may read a `context` besides (a translator's encoded source; None for a
language model). Search, sampling and continuous batching (this package) only ever call these
methods, so they work for every task's model alike.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol

import torch


class Step(NamedTuple):
    """What a step gives: the scores of each row's next token, the state after it, and, for a model
    with attention, what it looked at."""

    logits: torch.Tensor  # (rows, vocabulary)
    states: Any  # one row per sequence, in the model's own layout
    attention: torch.Tensor | None = None  # (rows, S) over the context's S positions


class StepModel(Protocol):
    attention: bool  # whether its steps return attention weights
    hidden: int  # the width of its state: with the rows, how much work a step is (small_ops_threads)
    device: torch.device  # where its steps run: the tokens and the noise of sampling go there

    def start(self, prompt: torch.Tensor, lengths: torch.Tensor | None) -> tuple[Step, Any]:
        """Prompt ids (rows, time), right-padded to `lengths` (rows,) -> (the first step: scores of
        the first token to make, and the state; the context). A language model reads the prompt;
        a translator encodes it and takes its first step from the start token."""

    def step(self, tokens: torch.Tensor, states, context) -> Step:
        """Each row's latest token (rows,) -> the next step."""

    def select(self, states, rows: torch.Tensor):
        """The states of these rows, in this order (rows may repeat)."""

    def select_context(self, context, rows: torch.Tensor):
        """The context of these rows, in this order."""

    def join(self, states, more):
        """Two batches' states as one batch: `more`'s rows after these."""

    def join_context(self, context, more):
        """Two batches' contexts as one batch."""
