"""Several models of one vocabulary as one StepModel (steps.py): each step's next-token
probabilities are the members' averaged, the members stepping side by side.

Its scores are log(mean_m softmax(logits_m)): log-probabilities, which are logits whose softmax is
the averaged distribution, so search and sampling treat an ensemble as any model.
"""

from __future__ import annotations

import math

import torch

from .steps import Step, StepModel


def averaged_log_probabilities(logits: list[torch.Tensor]) -> torch.Tensor:
    """Each member's logits (..., vocab) -> log of their averaged softmax (..., vocab)."""
    log_probabilities = torch.stack([member.log_softmax(-1) for member in logits])
    return torch.logsumexp(log_probabilities, 0) - math.log(len(logits))


class EnsembleSteps:
    """StepModels with one vocabulary (no attention) as one: states and contexts are lists, one
    entry per member."""

    attention = False

    def __init__(self, members: list[StepModel]):
        self.members = members
        self.hidden = sum(member.hidden for member in members)  # the work of a step: all the members'
        self.device = members[0].device

    def _joined(self, steps: list[Step]) -> Step:
        return Step(averaged_log_probabilities([step.logits for step in steps]), [step.states for step in steps])

    def start(self, prompt: torch.Tensor, lengths: torch.Tensor | None = None) -> tuple[Step, list]:
        started = [member.start(prompt, lengths) for member in self.members]
        return self._joined([step for step, _ in started]), [context for _, context in started]

    def step(self, tokens: torch.Tensor, states: list, context: list) -> Step:
        return self._joined([member.step(tokens, member_states, member_context) for member, member_states,
                             member_context in zip(self.members, states, context)])

    def select(self, states: list, rows: torch.Tensor) -> list:
        return [member.select(member_states, rows) for member, member_states in zip(self.members, states)]

    def select_context(self, context: list, rows: torch.Tensor) -> list:
        return [member.select_context(part, rows) for member, part in zip(self.members, context)]

    def join(self, states: list, more: list) -> list:
        return [member.join(mine, theirs) for member, mine, theirs in zip(self.members, states, more)]

    def join_context(self, context: list, more: list) -> list:
        return [member.join_context(mine, theirs) for member, mine, theirs in zip(self.members, context, more)]
