"""GRU: the gated recurrent unit users of the peers expect beside LSTM."""

from __future__ import annotations

import torch
from torch import nn

from .recurrent import Recurrent


class GRU(Recurrent):
    """Gated recurrent unit, PyTorch's equations (Keras's `reset_after=True`, its default):

        r = σ(W_ir x + b_ir + W_hr h + b_hr),  z = σ(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r∘(W_hn h + b_hn)),  h' = (1 − z)∘n + z∘h

    3·h·(h+x) + 6·h parameters, as Keras counts (the recurrent bias sits inside r∘(·), so it is not
    redundant here). Gates stacked (r, z, n) as in PyTorch. State h (batch, hidden_size).
    """

    torch_type = nn.GRU

    def __init__(self, input_size: int, hidden_size: int, **options):
        super().__init__(input_size, hidden_size, **options)
        self.weight_ih = nn.Parameter(torch.empty(3 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(3 * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(3 * hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(3 * hidden_size))
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.xavier_uniform_(self.weight_ih)
        nn.init.orthogonal_(self.weight_hh)
        nn.init.zeros_(self.bias_ih)
        nn.init.zeros_(self.bias_hh)

    def _torch_biases(self):
        return self.bias_ih, self.bias_hh

    def _own_weights(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def cell(self, x_t, state, weights=None):
        (h,) = state
        weight_ih, weight_hh, bias_ih, bias_hh = weights or self._own_weights()
        from_x = (x_t @ weight_ih.t() + bias_ih).chunk(3, -1)
        from_h = (h @ weight_hh.t() + bias_hh).chunk(3, -1)
        reset = torch.sigmoid(from_x[0] + from_h[0])
        update = torch.sigmoid(from_x[1] + from_h[1])
        candidate = torch.tanh(from_x[2] + reset * from_h[2])
        return ((1 - update) * candidate + update * h,)

    def _run_fused(self, x, state, lengths, need_state, weights, parts=1):
        output, h_n = torch.gru(x, state[0][None], weights, True, 1, 0.0, False, False, True)
        h_n = h_n[0] if lengths is None else self._last_real(output, lengths)
        return output, (h_n,)
