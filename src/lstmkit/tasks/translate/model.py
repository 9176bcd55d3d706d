"""The sequence-to-sequence model: an encoder, one decoder per target language, Luong attention,
and Seq2SeqSteps, which runs a decoder one step at a time for search and continuous batching
(generation/)."""

from __future__ import annotations

import torch
from torch import nn

from ...nn import LSTM, Bidirectional, Dense, Embedding
from ...nn.lstm import bfloat16_pays, join_states, linear_t, select_states, stacked_step
from ...nn.recurrent import time_mask
from ...nn import one_hot
from ...generation.steps import Step
from ...text.tokens import PAD, START
from .config import TranslateConfig


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
    (batch, hidden)). A Bi-LSTM layer's state is both directions' states joined."""

    def __init__(self, config: TranslateConfig, vocab: int):
        super().__init__()
        self.input = TokenInput(vocab, config.embedding_dim)
        self.bidirectional = config.encoder == "bilstm"
        units = config.hidden // 2 if self.bidirectional else config.hidden
        layers, size = [], self.input.size
        for _ in range(config.layers):
            layer = LSTM(size, units, return_sequences=True, return_state=True, dropout=config.dropout)
            layers.append(Bidirectional(layer) if self.bidirectional else layer)
            size = config.hidden
        self.layers = nn.ModuleList(layers)

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
    `step` runs one step for inference."""

    def __init__(self, config: TranslateConfig, vocab: int):
        super().__init__()
        self.input = TokenInput(vocab, config.embedding_dim)
        sizes = [self.input.size] + [config.hidden] * config.layers
        self.layers = nn.ModuleList(LSTM(sizes[i], config.hidden, return_sequences=True, return_state=True,
                                         dropout=config.dropout) for i in range(config.layers))
        self.attention = config.attention
        if config.attention:
            self.score = nn.Linear(config.hidden, config.hidden, bias=False)  # Luong "general": h_t W m_s
            self.combine = Dense(2 * config.hidden, config.hidden, activation="tanh")
        self.output = Dense(config.hidden, vocab)
        self.bf16_output = config.bf16_output
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
        scores = self.score(queries) @ memory.transpose(1, 2)
        weights = scores.masked_fill(~memory_mask[:, None, :], float("-inf")).softmax(-1)
        return self.combine(torch.cat([weights @ memory, queries], -1)), weights

    def step_constants(self, bf16: bool = False):
        """What step() needs: each layer's LSTM.step_weights (the first with a one-hot table when
        inputs are one-hot), the output weights transposed, and the output bias with the padding and
        start tokens at -inf (never a token of a translation). bf16: the matrix products' weights in
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
        output_bias[[PAD, START]] = float("-inf")
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


class Seq2Seq(nn.Module):
    """One English encoder; one decoder per target language (`languages` names them in order)."""

    def __init__(self, config: TranslateConfig, source_vocab: int, target_vocabs: dict[str, int]):
        super().__init__()
        self.languages = list(target_vocabs)
        self.encoder = Encoder(config, source_vocab)
        self.decoders = nn.ModuleDict({language: Decoder(config, size) for language, size in target_vocabs.items()})

    def encode(self, source, lengths):
        """-> (memory (batch, S, hidden), mask (batch, S), states)."""
        memory, states = self.encoder(source, lengths)
        return memory, time_mask(lengths, memory.shape[1], memory.device), states

    def forward(self, source, lengths, target_in, language: str):
        memory, mask, states = self.encode(source, lengths)
        return self.decoders[language](target_in, states, memory, mask)


def encode_for_decoding(model: Seq2Seq, source, lengths, bf16: bool = False):
    """model.encode for decoding; with bf16 its matrix products run in bfloat16 (autocast) -> float32
    (memory, mask, states)."""
    if not bf16:
        return model.encode(source, lengths)
    with torch.autocast(source.device.type, torch.bfloat16):
        memory, mask, states = model.encode(source, lengths)
    return memory.float(), mask, [(h.float(), c.float()) for h, c in states]


class Seq2SeqSteps:
    """One target language's decoder, a step at a time: a StepModel (generation/steps.py). The
    context is the encoder's (outputs, mask), the states each layer's (h, c). bf16: every matrix
    product in bfloat16 (the state, attention and scores stay float32)."""

    def __init__(self, model: Seq2Seq, language: str, bf16: bool = False):
        self.model, self.decoder, self.bf16 = model, model.decoders[language], bf16
        self.attention, self.hidden = self.decoder.attention, model.decoders[language].layers[0].hidden_size
        self.constants = self.decoder.step_constants(bf16)

    @property
    def device(self) -> torch.device:
        return self.constants[2].device  # the output bias

    def start(self, source, lengths) -> tuple[Step, tuple]:
        """Encodes the source and takes the first step, from the start token."""
        memory, mask, states = encode_for_decoding(self.model, source, lengths, self.bf16)
        context = (memory, mask)
        return self.step(torch.full((source.shape[0],), START, dtype=torch.long, device=source.device),
                         states, context), context

    def step(self, tokens, states, context) -> Step:
        return Step(*self.decoder.step(tokens, states, *context, self.constants))

    select, join = staticmethod(select_states), staticmethod(join_states)

    def select_context(self, context, rows):
        # only attention reads the encoder outputs
        return tuple(part.index_select(0, rows) for part in context) if self.attention else context

    def join_context(self, context, more):
        """The encoder outputs of two batches, the shorter padded (masked out) to the longer source."""
        if not self.attention:
            return context
        width = max(context[1].shape[1], more[1].shape[1])
        memory, mask = ([nn.functional.pad(part[0], (0, 0, 0, width - part[0].shape[1])) for part in (context, more)],
                        [nn.functional.pad(part[1], (0, width - part[1].shape[1])) for part in (context, more)])
        return torch.cat(memory), torch.cat(mask)
