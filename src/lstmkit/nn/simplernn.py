"""SimpleRNN: the lecture's plain recurrent layer, with its own kernel."""

from __future__ import annotations

import torch
from torch import nn

from .lanes import small_ops_threads
from .recurrent import Recurrent


class _SimpleRNNKernel(torch.autograd.Function):
    """All steps of h_t = tanh(a_t), a_t = x_t·W_ihᵀ + b + h_{t-1}·W_hhᵀ, with two operations a step
    forward and backward. No autograd node is recorded per step (PyTorch's rnn_tanh records four);
    the input's part of every step is one matrix product before the loop and the weights' gradients
    one product each after it. The loop carries s_t = σ(2a_t) = (h_t + 1)/2 instead of h_t: a CPU's
    sigmoid is about 3x faster than its tanh, and 2a_{t+1} = 2(x·W_ihᵀ + b - 1·W_hhᵀ) + s_t·(4W_hh)ᵀ
    folds the conversion into the weights."""

    @staticmethod
    def forward(ctx, x, h0, weight_ih, weight_hh, bias):
        """x (batch, time, in), h0 (batch, hidden) -> (outputs (batch, time, hidden), h_n). Every
        tensor stays batch-major: a step is a strided (batch, hidden) view, which BLAS reads as is."""
        shift = 2 * (bias - weight_hh.sum(1))  # 2(b - 1·W_hhᵀ)
        outputs = torch.matmul(x, 2 * weight_ih.t()).add_(shift)  # 2a_t but for s_{t-1}'s part
        recurrent_t, s = 4 * weight_hh.t(), (h0 + 1) / 2
        with small_ops_threads(h0.numel()):
            for step in outputs.unbind(1):
                s = torch.addmm(step, s, recurrent_t, out=step).sigmoid_()
        outputs.mul_(2).sub_(1)  # h_t = 2 s_t - 1, in place
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(x, h0, weight_ih, weight_hh, outputs)
        return outputs, outputs[:, -1].clone()  # h_n its own tensor, not a view of the outputs

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_outputs, grad_h_n):
        x, h0, weight_ih, weight_hh, outputs = ctx.saved_tensors
        slopes = (1 - outputs * outputs).unbind(1)  # tanh' at every step
        grads = [None] * len(slopes) if grad_outputs is None else grad_outputs.unbind(1)  # dL/dh_t
        grad_pre = torch.empty_like(outputs)  # dL/da_t at every step
        grad_pre_steps = grad_pre.unbind(1)
        carried = grads[-1] if grad_h_n is None else grad_h_n if grads[-1] is None else grad_h_n + grads[-1]
        if carried is None:
            carried = torch.zeros_like(h0)
        with small_ops_threads(h0.numel()):
            for t in range(len(slopes) - 1, -1, -1):
                torch.mul(carried, slopes[t], out=grad_pre_steps[t])
                if t:
                    below, here = grads[t - 1], grad_pre_steps[t]
                    carried = here @ weight_hh if below is None else torch.addmm(below, here, weight_hh)
        flat = grad_pre.flatten(0, 1)  # (batch·time, hidden)
        grad_x = grad_pre @ weight_ih if ctx.needs_input_grad[0] else None
        grad_h0 = grad_pre_steps[0] @ weight_hh if ctx.needs_input_grad[1] else None
        # h_{t-1} for t ≥ 1 are the outputs shifted by one step; h0 precedes the first
        grad_weight_hh = (grad_pre[:, 1:].flatten(0, 1).t() @ outputs[:, :-1].flatten(0, 1)
                          + grad_pre_steps[0].t() @ h0)
        return grad_x, grad_h0, flat.t() @ x.flatten(0, 1), grad_weight_hh, flat.sum(0)


class SimpleRNN(Recurrent):
    """h_t = tanh(W·[h_{t-1}, x_t] + b): h·(h+x) + h parameters, as the lecture and Keras count.

    Inputs (batch, time, input_size); state h (batch, hidden_size). Options as for LSTM.
    """

    torch_type = nn.RNN
    lanes = False  # its kernel's loop is Python: two lanes would wait on each other for the interpreter

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
