"""SimpleRNN: the lecture's plain recurrent layer, with its own kernel."""

from __future__ import annotations

import torch
from torch import nn

from . import steploops
from .lanes import small_ops_threads
from .recurrent import Recurrent, final_state_gradient, loop_gradients, time_major_inputs


class _SimpleRNNKernel(torch.autograd.Function):
    """All steps of h_t = tanh(a_t), a_t = x_t·W_ihᵀ + b + h_{t-1}·W_hhᵀ. No autograd node is
    recorded per step (PyTorch's rnn_tanh records four): the input's part of every step is one
    matrix product before the loop and the weights' gradients one product each after it. The loop
    itself is one compiled call forward and one backward (steploops.c) where steploops.runs says
    so, else an eager loop of two operations a step."""

    @staticmethod
    def forward(ctx, x, h0, weight_ih, weight_hh, bias):
        """x (batch, time, in), h0 (batch, hidden) -> (outputs (batch, time, hidden), h_n)."""
        compiled = steploops.runs(x, weight_hh.shape[0], steploops.SIMPLERNN_MAX_UNITS)
        ctx.time_dim = 0 if compiled else 1  # the layout the loop keeps
        if ctx.time_dim == 0:  # one compiled call, its steps contiguous (time, batch, hidden)
            outputs = time_major_inputs(x, weight_ih, bias)
            steploops.simplernn_forward(outputs, h0.contiguous(), weight_hh.t())
        else:
            outputs = _eager_forward(x, h0, weight_ih, weight_hh, bias)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(x, h0, weight_ih, weight_hh, outputs)
        last = outputs.select(ctx.time_dim, -1).clone()  # h_n its own tensor, not a view of the outputs
        return outputs.transpose(0, 1) if ctx.time_dim == 0 else outputs, last

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_outputs, grad_h_n):
        """The gradients of x, h0, W_ih, W_hh and b; the loop runs in the layout the forward kept
        (outputs (time, batch, hidden) or (batch, time, hidden), along `time_dim`)."""
        x, h0, weight_ih, weight_hh, outputs = ctx.saved_tensors
        time_dim = ctx.time_dim
        carried = final_state_gradient(h0, grad_outputs, grad_h_n)  # dL/dh at the last step
        if time_dim == 0:
            grad_outputs = None if grad_outputs is None else grad_outputs.transpose(0, 1).contiguous()
            grad_pre = steploops.simplernn_backward(outputs, grad_outputs, carried, weight_hh)
        else:
            grad_pre = _eager_backward(outputs, grad_outputs, carried, weight_hh)
        return loop_gradients(x, h0, weight_ih, weight_hh, outputs, grad_pre, time_dim, *ctx.needs_input_grad[:2])


def _eager_forward(x, h0, weight_ih, weight_hh, bias):
    """The forward loop in eager PyTorch, two operations a step -> outputs (batch, time, hidden).
    It carries s_t = σ(2a_t) = (h_t + 1)/2 instead of h_t: a CPU's sigmoid is about 3x faster than
    its tanh, and 2a_{t+1} = 2(x·W_ihᵀ + b - 1·W_hhᵀ) + s_t·(4W_hh)ᵀ folds the conversion into the
    weights."""
    shift = 2 * (bias - weight_hh.sum(1))  # 2(b - 1·W_hhᵀ)
    outputs = torch.matmul(x, 2 * weight_ih.t()).add_(shift)  # 2a_t but for s_{t-1}'s part
    recurrent_t, s = 4 * weight_hh.t(), (h0 + 1) / 2
    with small_ops_threads(h0.numel()):
        for step in outputs.unbind(1):
            s = torch.addmm(step, s, recurrent_t, out=step).sigmoid_()
    return outputs.mul_(2).sub_(1)  # h_t = 2 s_t - 1, in place


def _eager_backward(outputs, grad_outputs, carried, weight_hh):
    """The backward loop in eager PyTorch: carried (batch, hidden) is dL/dh at the last step ->
    dL/da_t at every step (batch, time, hidden)."""
    slopes = (1 - outputs * outputs).unbind(1)  # tanh' at every step
    grads = [None] * len(slopes) if grad_outputs is None else grad_outputs.unbind(1)  # dL/dh_t
    grad_pre = torch.empty_like(outputs)
    grad_pre_steps = grad_pre.unbind(1)
    with small_ops_threads(carried.numel()):
        for t in range(len(slopes) - 1, -1, -1):
            torch.mul(carried, slopes[t], out=grad_pre_steps[t])
            if t:
                below, here = grads[t - 1], grad_pre_steps[t]
                carried = here @ weight_hh if below is None else torch.addmm(below, here, weight_hh)
    return grad_pre


class SimpleRNN(Recurrent):
    """h_t = tanh(W·[h_{t-1}, x_t] + b): h·(h+x) + h parameters, as the lecture and Keras count.

    Inputs (batch, time, input_size); state h (batch, hidden_size). Options as for LSTM.
    """

    torch_type = nn.RNN
    lanes = False  # its compiled loop takes under 2 µs a step: cutting the batch gained within noise

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

    def cell(self, x_t, state, weights=None):
        (h,) = state
        weight_ih, weight_hh, bias = weights or self._own_weights()
        return (torch.tanh(x_t @ weight_ih.t() + h @ weight_hh.t() + bias),)

    def _run_fused(self, x, state, lengths, need_state, weights, parts=1):
        output, h_n = _SimpleRNNKernel.apply(x, state[0], *weights)
        if lengths is not None:
            h_n = self._last_real(output, lengths)
        return output, (h_n,)
