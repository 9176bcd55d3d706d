"""SimpleRNN (the lecture's plain recurrent layer) and GRU (what users of the peers expect)."""

from __future__ import annotations

import torch
from torch import nn

from .recurrent import Recurrent


class _SimpleRNNKernel(torch.autograd.Function):
    """All steps of h_t = tanh(x_t·W_ihᵀ + b + h_{t-1}·W_hhᵀ) with two operations a step, forward and
    backward: the input's part of every step is one matrix product before the loop, the weights'
    gradients one product each after it, and no autograd node is recorded per step (PyTorch's
    rnn_tanh records four a step, and its per-call overhead is what bounds a 32-unit layer)."""

    @staticmethod
    def forward(ctx, x, h0, weight_ih, weight_hh, bias):
        """x (batch, time, in), h0 (batch, hidden) -> (outputs (batch, time, hidden), h_n)."""
        x_steps = x.transpose(0, 1)  # (time, batch, in): each step a contiguous slice
        outputs = torch.matmul(x_steps, weight_ih.t()).add_(bias)  # (time, batch, hidden), pre-activations so far
        recurrent_t, h = weight_hh.t(), h0
        for step in outputs:
            h = torch.addmm(step, h, recurrent_t, out=step).tanh_()
        ctx.save_for_backward(x_steps, h0, weight_ih, weight_hh, outputs)
        return outputs.transpose(0, 1), h.clone()  # h_n its own tensor, not a view of the outputs

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_outputs, grad_h_n):
        x_steps, h0, weight_ih, weight_hh, outputs = ctx.saved_tensors
        slope = 1 - outputs * outputs  # tanh' at every step
        grads = grad_outputs.transpose(0, 1).contiguous()  # (time, batch, hidden): dL/dh_t from the outputs
        grad_pre = torch.empty_like(outputs)  # dL/d(pre-activation) at every step
        carried = grad_h_n + grads[-1]
        for t in range(outputs.shape[0] - 1, -1, -1):
            torch.mul(carried, slope[t], out=grad_pre[t])
            if t:
                carried = torch.addmm(grads[t - 1], grad_pre[t], weight_hh)
        flat = grad_pre.reshape(-1, grad_pre.shape[-1])
        previous = torch.cat([h0[None], outputs[:-1]]).reshape(flat.shape)  # h_{t-1} of every step
        grad_x = torch.matmul(grad_pre, weight_ih).transpose(0, 1) if ctx.needs_input_grad[0] else None
        grad_h0 = grad_pre[0] @ weight_hh if ctx.needs_input_grad[1] else None
        return (grad_x, grad_h0, flat.t() @ x_steps.reshape(flat.shape[0], -1), flat.t() @ previous,
                flat.sum(0))


class SimpleRNN(Recurrent):
    """h_t = tanh(W·[h_{t-1}, x_t] + b): h·(h+x) + h parameters, as the lecture and Keras count.

    Inputs (batch, time, input_size); state h (batch, hidden_size). Options as for LSTM.
    """

    torch_type = nn.RNN
    lanes = True  # its kernel's two small operations a step leave the other threads idle

    def __init__(self, input_size: int, hidden_size: int, **options):
        super().__init__(input_size, hidden_size, **options)
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, hidden_size))
        self.bias = nn.Parameter(torch.empty(hidden_size))
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.xavier_uniform_(self.weight_ih)
        nn.init.orthogonal_(self.weight_hh)
        nn.init.zeros_(self.bias)

    def cell(self, x_t, state):
        (h,) = state
        return (torch.tanh(x_t @ self.weight_ih.t() + h @ self.weight_hh.t() + self.bias),)

    def _run_fused(self, x, state, lengths, need_state, weights):
        output, h_n = _SimpleRNNKernel.apply(x, state[0], *weights)
        if lengths is not None:
            h_n = self._last_real(output, lengths)
        return output, (h_n,)


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

    def _weights(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def cell(self, x_t, state):
        (h,) = state
        from_x = (x_t @ self.weight_ih.t() + self.bias_ih).chunk(3, -1)
        from_h = (h @ self.weight_hh.t() + self.bias_hh).chunk(3, -1)
        reset = torch.sigmoid(from_x[0] + from_h[0])
        update = torch.sigmoid(from_x[1] + from_h[1])
        candidate = torch.tanh(from_x[2] + reset * from_h[2])
        return ((1 - update) * candidate + update * h,)

    def _run_fused(self, x, state, lengths, need_state, weights):
        output, h_n = torch.gru(x, state[0][None], weights, True, 1, 0.0, False, False, True)
        h_n = h_n[0] if lengths is None else self._last_real(output, lengths)
        return output, (h_n,)
