"""An attentional encoder-decoder's blocks: TokenInput (an Embedding or one-hot ids), Encoder (a
stack of LSTM or Bi-LSTM layers) and Decoder (a stack of LSTM layers, Luong attention over the
encoder's outputs, a step at a time for search)."""

from __future__ import annotations

import torch
from torch import nn

from .bidirectional import Bidirectional
from .layers import Dense, Embedding, one_hot
from .lstm import LSTM, bfloat16_pays, linear_t, stacked_step


class TokenInput(nn.Module):
    """ids (...,) -> features (..., size): an Embedding, or one-hot vectors when dim is 0."""

    def __init__(self, vocab: int, dim: int):
        super().__init__()
        self.vocab = vocab
        self.embedding = Embedding(vocab, dim) if dim else None
        self.size = dim or vocab

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.embedding(ids) if self.embedding is not None else one_hot(ids, self.vocab)


class Encoder(nn.Module):
    """ids (batch, S), lengths (batch,) -> (outputs (batch, S, hidden), [(h, c) per layer], each
    (batch, hidden)). `dim` 0 reads one-hot ids; `layers` LSTM layers of `hidden` units, or with
    `bidirectional` Bi-LSTM layers of hidden // 2 units a direction, whose state is both
    directions' states joined."""

    def __init__(self, vocab: int, dim: int, hidden: int, layers: int, dropout: float = 0.0,
                 bidirectional: bool = False):
        super().__init__()
        self.input = TokenInput(vocab, dim)
        self.bidirectional = bidirectional
        units = hidden // 2 if bidirectional else hidden
        stack, size = [], self.input.size
        for _ in range(layers):
            layer = LSTM(size, units, return_sequences=True, return_state=True, dropout=dropout)
            stack.append(Bidirectional(layer) if bidirectional else layer)
            size = hidden
        self.layers = nn.ModuleList(stack)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor):
        x, states = self.input(ids), []
        for layer in self.layers:
            x, state = layer(x, lengths=lengths)
            if self.bidirectional:
                (h_forward, c_forward), (h_backward, c_backward) = state
                state = (torch.cat([h_forward, h_backward], -1), torch.cat([c_forward, c_backward], -1))
            states.append(state)
        return x, states


class Decoder(nn.Module):
    """Teacher-forced: ids (batch, T) + encoder states/outputs -> logits (batch, T, vocab);
    `step` runs one step for inference. `layers` LSTM layers of `hidden` units start from the
    encoder's states; `attention`: Luong's "general" score over the encoder's outputs (with
    `scaled_attention`, divided by √hidden as the Transformer's: unscaled, the scores grow until the
    softmax saturates on one source step, where its gradient vanishes);
    `bf16_output`: the output layer in bfloat16 in training where the CPU has the kernels; `never`:
    token ids no step ever emits (padding, start)."""

    def __init__(self, vocab: int, dim: int, hidden: int, layers: int, dropout: float = 0.0,
                 attention: bool = True, bf16_output: bool = False, never: tuple[int, ...] = (),
                 scaled_attention: bool = False):
        super().__init__()
        self.input = TokenInput(vocab, dim)
        sizes = [self.input.size] + [hidden] * layers
        self.layers = nn.ModuleList(LSTM(sizes[i], hidden, return_sequences=True, return_state=True,
                                         dropout=dropout) for i in range(layers))
        self.attention = attention
        if attention:
            self.score = nn.Linear(hidden, hidden, bias=False)  # Luong "general": h_t W m_s
            self.combine = Dense(2 * hidden, hidden, activation="tanh")
        self.score_scale = hidden ** -0.5 if scaled_attention else 1.0
        self.output = Dense(hidden, vocab)
        self.bf16_output = bf16_output
        self.never = list(never)
        self._step_cache = None  # (key, step_constants())

    def forward(self, ids, states, memory, memory_mask):
        x = self.input(ids)
        for layer, state in zip(self.layers, states):
            x, _ = layer(x, initial_state=state)
        x = self.attend(x, memory, memory_mask)[0]
        bf16 = self.bf16_output and self.training and bfloat16_pays(x.device)
        with torch.autocast(x.device.type, torch.bfloat16, enabled=bf16):
            return self.output(x)

    def attend(self, queries, memory, memory_mask):
        """queries (batch, T, hidden), memory (batch, S, hidden), mask (batch, S) True at real steps
        -> (attentional outputs (batch, T, hidden), weights (batch, T, S) or None)."""
        if not self.attention:
            return queries, None
        scores = self.score(queries) @ memory.transpose(1, 2) * self.score_scale
        weights = scores.masked_fill(~memory_mask[:, None, :], float("-inf")).softmax(-1)
        return self.combine(torch.cat([weights @ memory, queries], -1)), weights

    def step_constants(self, bf16: bool = False):
        """What step() needs: each layer's LSTM.step_weights (the first with a one-hot table when
        inputs are one-hot), the output weights transposed, and the output bias with the `never`
        tokens at -inf. bf16: the matrix products' weights in
        bfloat16. Made once per state of the weights, not per call: translating one sentence at a
        time would otherwise spend a good part of its time here."""
        key = (bf16, *((p.data_ptr(), p._version) for p in self.parameters()))  # changes when weights do
        if self._step_cache is None or self._step_cache[0] != key:
            self._step_cache = key, self._make_step_constants(torch.bfloat16 if bf16 else torch.float32)
        return self._step_cache[1]

    def train(self, mode: bool = True):
        self._step_cache = None  # fused Adam changes weights without bumping their version
        return super().train(mode)

    def _make_step_constants(self, dtype):
        one_hot = self.input.embedding is None
        layers = [layer.step_weights(one_hot=one_hot and index == 0, dtype=dtype)
                  for index, layer in enumerate(self.layers)]
        output_bias = self.output.bias.detach().clone()
        output_bias[self.never] = float("-inf")
        return layers, self.output.weight.detach().t().to(dtype).contiguous(), output_bias

    def step(self, tokens, states, memory, memory_mask, constants):
        """tokens (batch,) -> (logits (batch, vocab), new states, attention weights (batch, S) or None).
        `constants`: step_constants()."""
        layer_weights, output_t, output_bias = constants
        x = tokens if self.input.embedding is None else self.input(tokens)
        new_states = stacked_step(self.layers, layer_weights, x, states)
        x, attention = self.attend(new_states[-1][0][:, None], memory, memory_mask)
        logits = linear_t(x[:, 0], output_t, output_bias)
        return logits, new_states, attention[:, 0] if attention is not None else None
