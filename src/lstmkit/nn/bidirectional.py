"""Bidirectional: one recurrent layer reads forwards, a copy of it backwards; outputs concatenated."""

from __future__ import annotations

import torch
from torch import nn

from .recurrent import Recurrent, run_recurrent


class Bidirectional(nn.Module):
    """Bidirectional(layer): runs `layer` and a fresh layer of the same configuration that reads
    each sequence backwards, and concatenates [h_t, h'_t] along the features.

    Inputs (batch, time, features) and optional per-sample `lengths` as for the wrapped layer
    (the backward direction starts at each sample's last real step). Output (batch, time, 2·hidden)
    with return_sequences, else (batch, 2·hidden): the forward direction's last state beside the
    backward direction's state after reading the first step. With return_state: (output,
    (forward_state, backward_state)); `initial_state` takes the same pair.
    """

    def __init__(self, layer: Recurrent):
        super().__init__()
        if not isinstance(layer, Recurrent):
            raise ValueError(f"Bidirectional wraps an lstmkit recurrent layer (LSTM, GRU, SimpleRNN), "
                             f"got {type(layer).__name__}")
        config = layer.config()
        config["go_backwards"] = not layer.go_backwards
        self.forward_layer = layer
        self.backward_layer = type(layer)(**config)
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.input_size = layer.input_size
        self.hidden_size = 2 * layer.hidden_size  # the concatenated output's features

    def forward(self, inputs: torch.Tensor, initial_state=None, lengths=None):
        if initial_state is None:
            initial_state = (None, None)
        elif not (isinstance(initial_state, (tuple, list)) and len(initial_state) == 2):
            raise ValueError("Bidirectional initial_state must be a pair (forward_state, backward_state)")
        layers = (self.forward_layer, self.backward_layer)
        calls = [(layer, *layer._prepare(inputs, state, lengths), self.return_state, self.return_sequences)
                 for layer, state in zip(layers, initial_state)]
        outputs, states = [], []
        for layer, (output, final) in zip(layers, run_recurrent(calls)):  # both directions side by side
            outputs.append(output if self.return_sequences else final[0])
            states.append(layer._public_state(final))
        result = torch.cat(outputs, -1)
        return (result, tuple(states)) if self.return_state else result
