"""The lecture's LSTM, gate by gate, with one bias vector per gate (as the lecture and Keras count).

    f_t = σ(W_f·[h_{t-1}, x_t] + b_f)      forget gate
    i_t = σ(W_i·[h_{t-1}, x_t] + b_i)      input gate
    c̃_t = tanh(W_c·[h_{t-1}, x_t] + b_c)   new values
    o_t = σ(W_o·[h_{t-1}, x_t] + b_o)      output gate
    c_t = f_t∘c_{t-1} + i_t∘c̃_t            the cell state, the "conveyor belt"
    h_t = o_t∘tanh(c_t)

Parameters: 4·h·(h+x) + 4·h. W·[h, x] is stored as two matrices, `weight_ih` (4h, x) and
`weight_hh` (4h, h), with the gates stacked in the order (i, f, c̃, o) — Keras's and PyTorch's order —
so the fused kernel takes them as they are. PyTorch's own nn.LSTM adds a second bias vector `b_hh`
(4·h more parameters: 8,448 instead of 8,320 for LSTM(32) on 32 inputs); here that vector is a
constant zero.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import torch
from torch import nn

from . import steploops
from .lanes import on_one_thread
from .recurrent import Recurrent, final_state_gradient, loop_gradients, reverse_padded


def lstm_gates(pre: torch.Tensor):
    """Pre-activations (..., 4h) in the order (i, f, c̃, o) -> the four gate activations."""
    i, f, g, o = pre.chunk(4, -1)
    return torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)


def onednn_low_precision(dtype: torch.dtype) -> bool:
    """Whether oneDNN runs `dtype` (bfloat16 or float16) kernels on this CPU."""
    if dtype == torch.bfloat16:
        return torch.ops.mkldnn._is_mkldnn_bf16_supported()
    return dtype == torch.float16 and torch.ops.mkldnn._is_mkldnn_fp16_supported()


def bfloat16_pays(device: torch.device) -> bool:
    """Whether bfloat16 matrix products beat float32 on `device`: on a GPU, and on a CPU with
    bfloat16 kernels (AVX-512 BF16, AMX). Elsewhere they are emulated: the best translation preset's
    output layer took 17x float32's time on an AVX2 CPU (2026-12-05, one thread)."""
    return device.type != "cpu" or onednn_low_precision(torch.bfloat16)


def _float32_where_onednn_lacks_autocast_dtype(kernel):
    """A fused-kernel function that, under a CPU autocast to a dtype oneDNN has no LSTM for on this CPU
    (bfloat16 without AVX-512 BF16), runs in float32 instead of failing."""

    @functools.wraps(kernel)
    def run(x, *args):
        if (x.device.type == "cpu" and torch.is_autocast_enabled("cpu")
                and not onednn_low_precision(torch.get_autocast_dtype("cpu"))):
            with torch.autocast("cpu", enabled=False):
                return kernel(x.float(), *(a.float() if a.is_floating_point() else a for a in args))
        return kernel(x, *args)

    return run


@_float32_where_onednn_lacks_autocast_dtype
def lstm_fused(x, h0, c0, weight_ih, weight_hh, bias):
    """All steps of one LSTM layer on PyTorch's fused kernel (oneDNN on CPU, cuDNN on GPU), the
    second bias set to zero -> (outputs (batch, time, hidden), h_n, c_n (batch, hidden))."""
    params = (weight_ih, weight_hh, bias, torch.zeros_like(bias))
    train = torch.is_grad_enabled()  # oneDNN keeps its workspace for the backward only when set
    # args: hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first
    output, h_n, c_n = torch.lstm(x, (h0[None], c0[None]), params, True, 1, 0.0, train, False, True)
    return output, h_n[0], c_n[0]


@_float32_where_onednn_lacks_autocast_dtype
def lstm_packed(x, lengths, h0, c0, weight_ih, weight_hh, bias):
    """lstm_fused for right-padded samples of different lengths: each runs only its own steps
    -> (outputs (batch, time, hidden), zero at padding; (h_n, c_n) after each sample's last step)."""
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    order, restore = packed.sorted_indices, packed.unsorted_indices
    params = (weight_ih, weight_hh, bias, torch.zeros_like(bias))
    # args: batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional
    data, h_n, c_n = torch.lstm(packed.data, packed.batch_sizes, (h0[order][None], c0[order][None]), params,
                                True, 1, 0.0, torch.is_grad_enabled(), False)
    output, _ = nn.utils.rnn.pad_packed_sequence(
        nn.utils.rnn.PackedSequence(data, packed.batch_sizes, order, restore), batch_first=True,
        total_length=x.shape[1])
    return output, (h_n[0][restore], c_n[0][restore])


class _CompiledLSTM(torch.autograd.Function):
    """All steps of one LSTM layer in one compiled call forward and one backward (steploops.c), for
    float32 on a CPU where steploops.runs says so. The loop adds the input's part of each step as the
    step comes (a product with W_ihᵀ, or a row of W_ihᵀ + b for one-hot ids); the weights' gradients
    are one product each after it; the loop keeps its steps contiguous (time, batch, ·)."""

    @staticmethod
    def forward(ctx, x, h0, c0, weight_ih, weight_hh, bias, keep: bool, parts: int):
        """x (batch, time, in) or one-hot ids (batch, time), h0, c0 (batch, hidden) -> (outputs
        (batch, time, hidden), h_n, c_n). `keep`: whether a backward follows (it reads every step's
        gates and cells; without, the loop keeps one step of them, in the cache). `parts`: the
        batch's row ranges run side by side, forward and backward (steploops.lstm_forward)."""
        h0, c0 = h0.contiguous(), c0.contiguous()
        gates, outputs, cells = steploops.lstm_forward(x, weight_ih, weight_hh, bias, h0, c0, keep, parts)
        ctx.parts = parts
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(x, h0, c0, weight_ih, weight_hh, gates, outputs, cells)
        return outputs.transpose(0, 1), outputs[-1].clone(), cells[-1].clone()

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_outputs, grad_h_n, grad_c_n):
        x, h0, c0, weight_ih, weight_hh, gates, outputs, cells = ctx.saved_tensors
        carried_h = final_state_gradient(h0, grad_outputs, grad_h_n)  # dL/dh at the last step
        carried_c = final_state_gradient(c0, None, grad_c_n)  # dL/dc there
        if grad_outputs is not None:
            grad_outputs = grad_outputs.transpose(0, 1).contiguous()
        grad_pre = steploops.lstm_backward(gates, cells, c0, grad_outputs, carried_h, carried_c, weight_hh,
                                           ctx.parts)
        grad_x, grad_h0, grad_weight_ih, grad_weight_hh, grad_bias = loop_gradients(
            x, h0, weight_ih, weight_hh, outputs, grad_pre, 0, *ctx.needs_input_grad[:2])
        return grad_x, grad_h0, carried_c, grad_weight_ih, grad_weight_hh, grad_bias, None, None  # carried_c: dL/dc0


class StepWeights(NamedTuple):
    """One layer's weights laid out for LSTM.step_fast (made once, not every step).
    The candidate's columns are doubled: tanh(x) = 2σ(2x) - 1, so one sigmoid pass covers all four
    gates (tanh on a strided quarter of the gates is several times slower on CPU)."""

    table: torch.Tensor | None  # (vocab, 4h) x·W_ihᵀ + b for the input x of every id; None for dense inputs
    input_t: torch.Tensor  # (input_size, 4h) W_ihᵀ, contiguous
    bias: torch.Tensor  # (4h,)
    recurrent_t: torch.Tensor  # (hidden, 4h) W_hhᵀ, contiguous


def linear_t(x: torch.Tensor, weight_t: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """x (batch, in) @ weight_t (in, out) + bias (out,) -> float32 (batch, out); the product runs in
    weight_t's dtype (bfloat16 weights: x is cast, the sum is float32)."""
    if weight_t.dtype == x.dtype:
        return torch.addmm(bias, x, weight_t)
    return torch.mm(x.to(weight_t.dtype), weight_t).float().add_(bias)


def lstm_step_(gates: torch.Tensor, h: torch.Tensor, c: torch.Tensor, recurrent_t: torch.Tensor):
    """One step in few passes over memory, for inference: `gates` (batch, 4h) holds x·W_ihᵀ + b (the
    candidate's part doubled, as StepWeights) and is overwritten (pass a tensor nobody else holds);
    h, c (batch, hidden) are not -> new (h, c). The lecture's equations (LSTM._step), computed in
    place: each fresh (batch, 4h) buffer costs about as much as the matrix product on a CPU."""
    if recurrent_t.dtype == gates.dtype:
        gates.addmm_(h, recurrent_t)
    else:  # a bfloat16 product (StepWeights in bfloat16), added to the float32 gates
        gates.add_(torch.mm(h.to(recurrent_t.dtype), recurrent_t))
    i, f, sigmoid_2x, o = gates.sigmoid_().chunk(4, 1)
    c = torch.addcmul(f * c, i, sigmoid_2x, value=2).sub_(i)  # f∘c + i∘(2σ(2x) - 1) = f∘c + i∘tanh(x)
    return torch.tanh(c).mul_(o), c


def stacked_step(layers, weights: list[StepWeights], inputs: torch.Tensor, states) -> list:
    """One inference step through stacked LSTM layers (each layer's output the next one's input):
    inputs (batch, input_size), or ids (batch,) when the first layer's weights have a table;
    states [(h, c)] per layer -> the new states. What text sampling and translation decoding share."""
    new_states, x = [], inputs
    for layer, layer_weights, state in zip(layers, weights, states):
        state = layer.step_fast(layer_weights, x, state)
        new_states.append(state)
        x = state[0]
    return new_states


def select_states(states, rows: torch.Tensor) -> list:
    """states [(h, c)] per layer, of these rows in this order (rows may repeat)."""
    return [(h.index_select(0, rows), c.index_select(0, rows)) for h, c in states]


def join_states(states, more) -> list:
    """Two batches' states [(h, c)] per layer as one batch: `more`'s rows after these."""
    return [(torch.cat([h, h_more]), torch.cat([c, c_more])) for (h, c), (h_more, c_more) in zip(states, more)]


class LSTM(Recurrent):
    """LSTM(input_size, hidden_size, *, return_sequences=False, return_state=False, dropout=0.0,
    go_backwards=False, implementation="fused", weight_drop=0.0).

    Inputs (batch, time, input_size); state (h, c), each (batch, hidden_size). `dropout` drops input
    features with one mask per sequence (Keras's `dropout`); `weight_drop` drops recurrent weights
    (W_hh) with one mask per batch (AWD-LSTM). `implementation="reference"` runs
    the readable step-by-step path; `gates()` returns every gate's activations for inspection.
    Initialised as Keras does: Glorot-uniform input weights, orthogonal recurrent weights,
    zero biases except the forget gate's, which is 1.
    """

    state_names = ("h", "c")
    torch_type = nn.LSTM
    lanes = True  # oneDNN's fused kernel: one thread per call side by side beats all threads on one call
    reads_ids = True

    def __init__(self, input_size: int, hidden_size: int, **options):
        super().__init__(input_size, hidden_size, **options)
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        self.bias = nn.Parameter(torch.empty(4 * hidden_size))
        self.reset_parameters()

    def reset_parameters(self):
        hidden = self.hidden_size
        nn.init.xavier_uniform_(self.weight_ih)
        nn.init.orthogonal_(self.weight_hh)
        with torch.no_grad():
            self.bias.zero_()
            self.bias[hidden: 2 * hidden] = 1.0  # forget gate open at the start: the belt carries

    def _step(self, x_t, h, c, weights=None):
        """The lecture's equations for one step -> (f, i, c̃, o, c, h), each (batch, hidden).
        `weights` (W_ih, W_hh, b) as _weights gives them (default: the layer's own)."""
        weight_ih, weight_hh, bias = weights or self._own_weights()
        pre = x_t @ weight_ih.t() + h @ weight_hh.t() + bias
        i, f, candidate, o = lstm_gates(pre)
        c = f * c + i * candidate
        h = o * torch.tanh(c)
        return f, i, candidate, o, c, h

    def cell(self, x_t, state, weights=None):
        *_, c, h = self._step(x_t, *state, weights)
        return h, c

    def step_weights(self, one_hot: bool = False, dtype: torch.dtype = torch.float32,
                     input_table: torch.Tensor | None = None) -> StepWeights:
        """The weights as step_fast() takes them. With one_hot, inputs are ids (batch,) of one-hot
        vectors and their part of the gates is a gathered row of a table, not a matrix product; with
        input_table (vocab, input_size), ids of its rows (an Embedding's weight) the same way.
        `dtype` is the matrix products' (bfloat16: several times faster on CPUs with AMX, at bfloat16's
        8-bit precision); the state and the gates stay float32."""
        hidden = self.hidden_size
        doubled = torch.ones(4 * hidden, device=self.bias.device)
        doubled[2 * hidden: 3 * hidden] = 2.0  # the candidate's pre-activation, for tanh(x) = 2σ(2x) - 1
        input_t, bias = self.weight_ih.detach().t() * doubled, self.bias.detach() * doubled
        if input_table is not None:
            table = torch.addmm(bias, input_table.to(input_t), input_t).contiguous()
        else:
            table = (input_t + bias).contiguous() if one_hot else None
        recurrent_t = self.weight_hh.detach().t() * doubled
        return StepWeights(table, input_t.to(dtype).contiguous(), bias, recurrent_t.to(dtype).contiguous())

    def step_fast(self, weights: StepWeights, inputs: torch.Tensor, state):
        """cell() for inference (no gradient, no dropout): inputs (batch, input_size), or ids (batch,)
        when `weights` has a one-hot table -> the new (h, c)."""
        if weights.table is not None:
            gates = weights.table.index_select(0, inputs)  # several times faster than table[inputs] on CPU
        else:
            gates = linear_t(inputs, weights.input_t, weights.bias)
        return lstm_step_(gates, *state, weights.recurrent_t)

    def gates(self, inputs: torch.Tensor, initial_state=None, lengths=None) -> dict[str, torch.Tensor]:
        """Every step's activations through the reference path (dropout as in forward):
        {"f", "i", "c~", "o", "c", "h"} -> (batch, time, hidden). With lengths, padding steps keep
        the state of the last real step."""
        x, (h, c), lengths = self._prepare(inputs, initial_state, lengths)
        if lengths is not None:
            x = x[:, : int(lengths.max())]
        if self.go_backwards:
            x = reverse_padded(x, lengths)
        names = ("f", "i", "c~", "o", "c", "h")
        steps = {name: [] for name in names}
        for t in range(x.shape[1]):
            values = self._step(x[:, t], h, c)
            if lengths is not None:
                running = (t < lengths)[:, None]
                values = values[:4] + tuple(torch.where(running, new, old) for new, old in zip(values[4:], (c, h)))
            c, h = values[4], values[5]
            for name, value in zip(names, values):
                steps[name].append(value)
        stacked = {name: torch.stack(values, 1) for name, values in steps.items()}
        if self.go_backwards:  # aligned with the input positions, as forward() returns them
            stacked = {name: reverse_padded(value, lengths) for name, value in stacked.items()}
        return stacked

    def _packed(self, x, lengths, need_state) -> bool:
        """Whether the call must stop each sample at its own end (its final c is wanted)."""
        return lengths is not None and int(lengths.min()) < x.shape[1] and need_state

    def _compiled(self, x, h0, one_thread: bool) -> bool:
        """Whether the compiled loop runs this call, on one thread per part or on all of them."""
        return steploops.runs(x if x.is_floating_point() else h0, self.hidden_size,
                              steploops.lstm_max_units(one_thread))

    def _runs_parts(self, x, state, lengths, need_state) -> bool:
        return not self._packed(x, lengths, need_state) and self._compiled(x, state[0], one_thread=True)

    def _run_fused(self, x, state, lengths, need_state, weights, parts=1):
        h0, c0 = state
        packed = self._packed(x, lengths, need_state)
        compiled = not packed and self._compiled(x, h0, on_one_thread() or parts > 1)
        if not (compiled or x.is_floating_point()):
            x = self.one_hot(x)  # only the compiled loop reads one-hot ids as a lookup
        if packed:
            # the final c of samples of different lengths: a packed batch stops each at its own end
            return lstm_packed(x, lengths, h0, c0, *weights)
        if compiled:
            keep = torch.is_grad_enabled() and any(t.requires_grad for t in (x, h0, c0, *weights))
            output, h_n, c_n = _CompiledLSTM.apply(x, h0, c0, *weights, keep, parts)
        else:
            output, h_n, c_n = lstm_fused(x, h0, c0, *weights)
        if lengths is not None and int(lengths.min()) < x.shape[1]:
            # the kernel ran on through the padding: take each sample's own last real step
            h_n = self._last_real(output, lengths)
        return output, (h_n, c_n)
