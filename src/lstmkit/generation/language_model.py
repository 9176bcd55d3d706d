"""An LSTM language model (`embed -> LSTM layers -> output`) as a StepModel (steps.py).

It reads a prompt once, then carries (h, c) forward one token at a time on the LSTM's fast
inference step (nn/lstm.py's `stacked_step`, which a translator's decoder steps on too): the
input's contribution to the gates is looked up in a precomputed (vocab, 4·hidden) table (a one-hot
input, or an embedding, times W_ih is just a row). Several sequences are one batch.
"""

from __future__ import annotations

import torch
from torch import nn

from ..nn import LSTM
from ..nn.lstm import join_states, select_states, stacked_step
from .steps import Step


class LanguageModelSteps:
    """Steps of `embed -> LSTM layers -> output`. `input_table` (vocab, input_size) maps a token to
    the first layer's input: the identity for one-hot inputs, an Embedding's weight otherwise.
    `layers` are lstmkit LSTMs (batch-first, stacked), `output` a Linear/Dense producing logits
    (softmax activations are dropped: the argmax and the sampling distribution need logits). It has
    no context: every row reads only its own state."""

    attention = False

    def __init__(self, input_table: torch.Tensor, layers: list[LSTM], output: nn.Linear):
        with torch.no_grad():
            # the first layer's: token -> its contribution to the gates, bias included (vocab, 4h)
            self.step_weights = [layers[0].step_weights(input_table=input_table),
                                 *(layer.step_weights() for layer in layers[1:])]
            self.output_weight = output.weight.t().contiguous()
            self.output_bias = output.bias.detach().clone()
        self.input_table = input_table.float()
        self.layers = [layer.eval() for layer in layers]
        self.hidden = layers[0].hidden_size  # the work of a step, for small_ops_threads

    @property
    def device(self) -> torch.device:
        return self.output_weight.device

    def start(self, prompt: torch.Tensor, lengths: torch.Tensor | None = None) -> tuple[Step, None]:
        """Feeds the prompts (rows, time) through the layers at once -> (the scores after each
        prompt and the state [(h, c) per layer]; no context)."""
        with torch.no_grad():
            x = self.input_table[prompt.to(self.input_table.device)]
            states = []
            for layer in self.layers:
                x, state = layer.outputs_and_state(x, lengths=lengths)
                states.append(state)
            return Step(self.logits(states), states), None

    def step(self, tokens: torch.Tensor, states, context=None) -> Step:
        states = stacked_step(self.layers, self.step_weights, tokens, states)
        return Step(self.logits(states), states)

    def folded_steps(self, scale: float, noise: torch.Tensor):
        """step() for sampling with Gumbel noise (sampling.sampled_tokens): the scale folded into the
        output weights and each step's noise (steps, rows, vocab) into the output bias, so a step's
        scale·logits + noise come out of one product -> step(tokens, states, position) -> (scores,
        new states)."""
        weight, noisy_bias = self.output_weight * scale, self.output_bias * scale + noise

        def step(tokens, states, position: int):
            states = stacked_step(self.layers, self.step_weights, tokens, states)
            return torch.addmm(noisy_bias[position], states[-1][0], weight), states

        return step

    def logits(self, states) -> torch.Tensor:
        """(rows, vocab) scores of the next token after `states`."""
        return torch.addmm(self.output_bias, states[-1][0], self.output_weight)

    select, join = staticmethod(select_states), staticmethod(join_states)

    @staticmethod
    def select_context(context, rows: torch.Tensor):
        return context

    @staticmethod
    def join_context(context, more):
        return context
