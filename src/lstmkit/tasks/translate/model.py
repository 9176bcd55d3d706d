"""The translation model: one English encoder and one decoder per target language (nn/seq2seq.py's
blocks), and Seq2SeqSteps, which runs a decoder one step at a time for search and continuous
batching (generation/)."""

from __future__ import annotations

import torch
from torch import nn

from ...generation.steps import Step
from ...nn.lstm import join_states, select_states
from ...nn.recurrent import time_mask
from ...nn.seq2seq import Decoder, Encoder
from ...text.tokens import PAD, START
from .config import TranslateConfig


class Seq2Seq(nn.Module):
    """One English encoder; one decoder per target language (`languages` names them in order)."""

    def __init__(self, config: TranslateConfig, source_vocab: int, target_vocabs: dict[str, int]):
        super().__init__()
        self.languages = list(target_vocabs)
        self.encoder = Encoder(source_vocab, config.embedding_dim, config.hidden, config.layers, config.dropout,
                               bidirectional=config.encoder == "bilstm")
        self.decoders = nn.ModuleDict({
            language: Decoder(size, config.embedding_dim, config.hidden, config.layers, config.dropout,
                              attention=config.attention, bf16_output=config.bf16_output, never=(PAD, START),
                              scaled_attention=config.scaled_attention)
            for language, size in target_vocabs.items()})

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
