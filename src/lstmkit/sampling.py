"""Generating sequences from a trained recurrent language model, fast.

Two parts:
- `choose(logits, ...)`: the next token by greedy, multinomial, temperature (the lecture's
  p**(1/T), renormalised, which is softmax(logits / T)), top-k or top-p sampling.
- `StatefulSampler`: feeds a seed once, then carries (h, c) forward one token at a time on the
  LSTM's fast inference step (nn/lstm.py's `stacked_step`, which translation decoding uses too):
  the input's contribution to the gates is looked up in a precomputed (vocab, 4·hidden) table (a
  one-hot input, or an embedding, times W_ih is just a row), and sampling with temperature adds
  pre-drawn Gumbel noise and takes the argmax (the same distribution as multinomial sampling).
  Several streams are one batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn

from .limits import check
from .nn import LSTM
from .nn.lanes import small_ops_threads
from .nn.lstm import stacked_step

STRATEGIES = ("greedy", "multinomial", "temperature", "top-k", "top-p")


@dataclass(frozen=True)
class SamplingOptions:
    strategy: str = "temperature"
    temperature: float = 1.0  # used by temperature, top-k and top-p
    top_k: int = 10
    top_p: float = 0.9

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {self.strategy!r}")
        for name in ("temperature", "top_k", "top_p"):
            check(name, getattr(self, name))


def sampling_options(strategy: str | None = None, temperature: float = 1.0, top_k: int | None = None,
                     top_p: float | None = None) -> SamplingOptions:
    """The options a user means: the strategy given, else top-k when top_k is given, top-p when
    top_p is, else temperature."""
    strategy = strategy or ("top-k" if top_k is not None else "top-p" if top_p is not None else "temperature")
    return SamplingOptions(strategy=strategy, temperature=temperature, top_k=10 if top_k is None else top_k,
                           top_p=0.9 if top_p is None else top_p)


def choose(logits: torch.Tensor, options: SamplingOptions, generator: torch.Generator | None = None) -> torch.Tensor:
    """(streams, vocab) logits -> (streams,) chosen ids, on the logits' device (drawn on the
    generator's: a seeded draw is the same whether the model runs on the CPU or a GPU)."""
    if options.strategy == "greedy":
        return logits.argmax(-1)
    if generator is not None and generator.device != logits.device:
        return choose(logits.to(generator.device), options, generator).to(logits.device)
    scaled = logits if options.strategy == "multinomial" else logits / options.temperature
    if options.strategy == "top-k":
        kth = scaled.topk(min(options.top_k, scaled.shape[-1]), -1).values[..., -1:]
        scaled = scaled.masked_fill(scaled < kth, float("-inf"))
    elif options.strategy == "top-p":
        ordered, order = scaled.sort(-1, descending=True)
        probabilities = ordered.softmax(-1)
        before = probabilities.cumsum(-1) - probabilities  # the mass of the more likely ids
        outside = before >= options.top_p
        outside[..., 0] = False  # the likeliest id always stays: a top_p that is 0 in float32 keeps one
        drop = torch.zeros_like(scaled, dtype=torch.bool).scatter(-1, order, outside)
        scaled = scaled.masked_fill(drop, float("-inf"))
    return torch.multinomial(scaled.softmax(-1), 1, generator=generator)[:, 0]


def gumbel_noise(shape, generator) -> torch.Tensor:
    """Gumbel(0, 1) noise: argmax(logits + noise) samples from softmax(logits)."""
    uniform = torch.rand(shape, generator=generator).clamp_(1e-20, 1.0)
    return -torch.log(-torch.log(uniform))


class StatefulSampler:
    """Generates from `embed -> LSTM layers -> output` one token per step, carrying (h, c).

    `input_table` (vocab, input_size) maps a token to the first layer's input: the identity for
    one-hot inputs, an Embedding's weight otherwise. `layers` are lstmkit LSTMs (batch-first,
    stacked), `output` a Linear/Dense producing logits (softmax activations are dropped: the
    argmax and the sampling distribution need logits).
    """

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

    def prime(self, seeds: torch.Tensor, lengths: torch.Tensor | None = None):
        """Feeds the seeds (streams, time) ids through the layers at once ->
        (logits after each seed (streams, vocab), state [(h, c) per layer])."""
        with torch.no_grad():
            x = self.input_table[seeds.to(self.input_table.device)]
            states = []
            for layer in self.layers:
                x, state = layer.outputs_and_state(x, lengths=lengths)
                states.append(state)
            return self.logits(states), states

    @property
    def device(self) -> torch.device:
        return self.output_weight.device

    def step(self, token: torch.Tensor, states):
        """One token per stream -> (logits (streams, vocab), new states)."""
        states = self.advance(token, states)
        return self.logits(states), states

    def advance(self, token: torch.Tensor, states):
        """The LSTM layers' states after reading `token` (streams,)."""
        return stacked_step(self.layers, self.step_weights, token, states)

    def logits(self, states) -> torch.Tensor:
        """(streams, vocab) scores of the next token after `states`."""
        return torch.addmm(self.output_bias, states[-1][0], self.output_weight)

    @staticmethod
    def select(states, rows: torch.Tensor):
        """The states of these streams, in this order (a stream leaving or joining a batch)."""
        return [(h.index_select(0, rows), c.index_select(0, rows)) for h, c in states]

    @staticmethod
    def join(states, more):
        """The states of two batches of streams as one."""
        return [(torch.cat([h, h_more]), torch.cat([c, c_more])) for (h, c), (h_more, c_more) in zip(states, more)]

    def steps(self, seeds: torch.Tensor, length: int, options: SamplingOptions,
              generator: torch.Generator | None = None, lengths: torch.Tensor | None = None) -> Iterator[torch.Tensor]:
        """Yields the ids (streams,) generated at each of `length` steps after the seeds (`lengths`:
        of right-padded seeds). Run it under torch.inference_mode() (generate() does; `stepwise`
        does for each step)."""
        logits, states = self.prime(seeds, lengths)
        if options.strategy in ("multinomial", "temperature") and length:
            # argmax(logits / T + Gumbel noise) samples softmax(logits / T): with the 1/T folded
            # into the output layer and the noise into its bias, one addmm gives the scores
            scale = 1.0 if options.strategy == "multinomial" else 1.0 / options.temperature
            # drawn on the CPU (its generator's), used where the model is
            noise = gumbel_noise((length, seeds.shape[0], logits.shape[-1]), generator).to(logits.device)
            noisy_bias = self.output_bias * scale + noise
            weight = self.output_weight * scale
            token = (logits * scale + noise[0]).argmax(-1)
            for position in range(1, length + 1):
                yield token
                if position == length:
                    break
                states = self.advance(token, states)
                token = torch.addmm(noisy_bias[position], states[-1][0], weight).argmax(-1)
        else:
            for position in range(length):
                if position:
                    logits, states = self.step(token, states)
                token = choose(logits, options, generator)
                yield token

    def generate(self, seeds: torch.Tensor, length: int, options: SamplingOptions,
                 generator: torch.Generator | None = None, lengths: torch.Tensor | None = None,
                 on_token=None) -> torch.Tensor:
        """(streams, length) generated ids after the seeds. `on_token(ids (streams,))` is called
        after every step (for streaming to a terminal)."""
        tokens = []
        with torch.inference_mode(), small_ops_threads(seeds.shape[0] * self.hidden):
            for token in self.steps(seeds, length, options, generator, lengths):
                tokens.append(token)
                if on_token is not None:
                    on_token(token)
        return torch.stack(tokens, 1) if tokens else torch.empty(seeds.shape[0], 0, dtype=torch.long)


def stepwise(steps: Iterator[torch.Tensor]) -> Iterator[torch.Tensor]:
    """`steps` with each step run under inference mode, and none of it between steps: the caller's
    code between two items runs as it would without this iterator."""
    while True:
        with torch.inference_mode():
            try:
                item = next(steps)
            except StopIteration:
                return
        yield item
