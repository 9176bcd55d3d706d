"""Sampling a sequence from any model behind the StepModel interface (steps.py).

- `choose(logits, ...)`: the next token by greedy, multinomial, temperature (the lecture's
  p**(1/T), renormalised, which is softmax(logits / T)), top-k or top-p sampling.
- `sampled_tokens` / `sample`: start on the prompts, then one token per step for every row.
  Sampling with temperature adds pre-drawn Gumbel noise to the scaled scores and takes the argmax
  (the same distribution as multinomial sampling), one batched operation for every row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from ..limits import check
from ..nn.lanes import small_ops_threads
from .steps import StepModel

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


def sampled_tokens(model: StepModel, prompt: torch.Tensor, length: int, options: SamplingOptions,
                   generator: torch.Generator | None = None,
                   lengths: torch.Tensor | None = None) -> Iterator[torch.Tensor]:
    """Yields the ids (rows,) made at each of `length` steps after the prompts (rows, time)
    (`lengths`: of right-padded prompts). Run it under torch.inference_mode() (sample() does;
    `stepwise` does for each step)."""
    (logits, states, _), context = model.start(prompt, lengths)
    gumbel = options.strategy in ("multinomial", "temperature") and length > 0
    folded = None
    if gumbel:  # argmax(logits / T + Gumbel noise) samples softmax(logits / T)
        scale = 1.0 if options.strategy == "multinomial" else 1.0 / options.temperature
        # drawn on the CPU (its generator's), used where the model is
        noise = gumbel_noise((length, prompt.shape[0], logits.shape[-1]), generator).to(logits.device)
        # a model that can takes each step's scaled and noisy scores out of one product (one operation
        # a step fewer: 1.1x the characters/s of one stream)
        folded = model.folded_steps(scale, noise) if hasattr(model, "folded_steps") else None
        scale = torch.tensor(scale, device=logits.device)  # a tensor for addcmul
    for position in range(length):
        if not gumbel:
            token = choose(logits, options, generator)
        elif position == 0 or folded is None:  # noise + logits·scale in one operation
            token = torch.addcmul(noise[position], logits, scale).argmax(-1)
        else:
            token = logits.argmax(-1)  # the folded step's scores hold the scale and the noise
        yield token
        if position + 1 < length:
            logits, states = (folded(token, states, position + 1) if folded is not None
                              else model.step(token, states, context)[:2])


def sample(model: StepModel, prompt: torch.Tensor, length: int, options: SamplingOptions,
           generator: torch.Generator | None = None, lengths: torch.Tensor | None = None,
           on_token: Callable[[torch.Tensor], None] | None = None) -> torch.Tensor:
    """(rows, length) ids made after the prompts. `on_token(ids (rows,))` is called after every
    step (for streaming to a terminal). Call it from one thread at a time (it sets torch's threads)."""
    tokens = []
    # small steps are faster on one thread; this lowers torch's thread count while it runs
    with torch.inference_mode(), small_ops_threads(prompt.shape[0] * model.hidden):
        for token in sampled_tokens(model, prompt, length, options, generator, lengths):
            tokens.append(token)
            if on_token is not None:
                on_token(token)
    return torch.stack(tokens, 1) if tokens else torch.empty(prompt.shape[0], 0, dtype=torch.long)


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
