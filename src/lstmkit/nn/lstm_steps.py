"""An LSTM whose time loop is a few batched operations per step, forward and backward by hand.

For the small states of the lecture's models (32-256 units) a step is a handful of tiny matrix
products: what costs is the number of operations per step, not arithmetic. Here
- the input's part of every gate, x·W_ihᵀ + b, is one matrix product over all steps;
- several independent recurrences (the two directions of a Bidirectional) step together, one
  batched product (`baddbmm`) for all of them;
- every gate is a sigmoid: the candidate's weights are doubled, tanh(x) = 2σ(2x) − 1;
- the backward pass is written out (BPTT): per step ~9 operations, the weights' gradient one
  product over all steps at the end;
- samples of different lengths are sorted longest first, so the running ones are a prefix of the
  batch and a finished sample's state stays as it was (what a packed sequence does).
"""

from __future__ import annotations

import torch


def doubled_candidate(hidden: int, device=None) -> torch.Tensor:
    """(4h,) ones with 2 at the candidate's rows (gates in the order i, f, c̃, o)."""
    scale = torch.ones(4 * hidden, device=device)
    scale[2 * hidden: 3 * hidden] = 2.0
    return scale


class _Steps(torch.autograd.Function):
    """x_gates (D, T, B, 4h) = x·W_ihᵀ + b with the candidate doubled, h0, c0 (D, B, h),
    recurrent_t (D, h, 4h) = W_hhᵀ doubled, running [T] how many samples (a prefix of the batch) run
    at each step -> outputs (T, D, B, h) (0 where a sample has finished), h_n, c_n (D, B, h).
    Each step's tensors are kept apart, not written into whole-sequence buffers: small tensors
    reuse the allocator's memory, where a fresh buffer of every step's gates costs page faults."""

    @staticmethod
    def forward(ctx, x_gates, h0, c0, recurrent_t, running):
        batch = h0.shape[1]
        h, c = h0, c0
        gates, cells, tanh_cells, outputs = [], [], [], []
        for t, n in enumerate(running):
            step = torch.baddbmm(x_gates[:, t, :n], h[:, :n], recurrent_t).sigmoid_()
            i, f, s, o = step.chunk(4, -1)
            c_run = torch.addcmul(f * c[:, :n], i, s, value=2).sub_(i)  # f∘c + i∘tanh, tanh = 2σ(2x) - 1
            tanh_c = torch.tanh(c_run)
            h_run = tanh_c * o
            gates.append(step), cells.append(c_run), tanh_cells.append(tanh_c), outputs.append(h_run)
            h, c = (h_run, c_run) if n == batch else (torch.cat([h_run, h[:, n:]], 1), torch.cat([c_run, c[:, n:]], 1))
        if ctx.needs_input_grad[:4] != (False,) * 4:
            ctx.save_for_backward(h0, c0, recurrent_t)
            ctx.steps = gates, cells, tanh_cells, outputs
        ctx.running = running
        ctx.set_materialize_grads(False)  # an output nobody uses (often all of them but h_n) sends None
        return _stack_padded(outputs, batch), h.clone(), c.clone()  # clones: a saved step is not an output

    @staticmethod
    def backward(ctx, d_outputs, d_h_n, d_c_n):
        h0, c0, recurrent_t = ctx.saved_tensors
        gates, cells, tanh_cells, outputs = ctx.steps
        batch = h0.shape[1]
        recurrent = recurrent_t.transpose(1, 2).contiguous()  # (D, 4h, h)
        d_recurrent_t = torch.zeros_like(recurrent_t)
        d_h = torch.zeros_like(h0) if d_h_n is None else d_h_n
        d_c = d_c_n  # None: no gradient reaches the last cell state (the usual case)
        d_x = []
        for t in reversed(range(len(ctx.running))):
            n, step, tanh_c = ctx.running[t], gates[t], tanh_cells[t]
            i, f, s, o = step.chunk(4, -1)
            dh = d_h[:, :n] if d_outputs is None else d_h[:, :n] + d_outputs[t, :, :n]
            dc = _tanh_backward(dh * o, tanh_c)
            if d_c is not None:
                dc += d_c[:, :n]
            c_previous = cells[t - 1][:, :n] if t else c0[:, :n]
            h_previous = outputs[t - 1][:, :n] if t else h0[:, :n]
            # d/d(i, f, σ(2x), o), then back through each sigmoid; dc∘(2σ - 1) = 2·dc∘σ - dc
            d_step = _sigmoid_backward(torch.cat([torch.addcmul(-dc, dc, s, value=2), dc * c_previous,
                                                  (dc * i).mul_(2), dh * tanh_c], -1), step)
            d_x.append(d_step)
            d_recurrent_t.baddbmm_(h_previous.transpose(1, 2), d_step)
            dh, dc = torch.bmm(d_step, recurrent), dc * f
            if n < batch:  # the finished samples' gradients pass their steps unchanged
                dh = torch.cat([dh, d_h[:, n:]], 1)
                dc = torch.cat([dc, d_c[:, n:] if d_c is not None else torch.zeros_like(d_h[:, n:])], 1)
            d_h, d_c = dh, dc
        del ctx.steps
        return _stack_padded(d_x[::-1], batch, dim=1), d_h, d_c, d_recurrent_t, None


_sigmoid_backward = torch.ops.aten.sigmoid_backward  # grad ∘ σ ∘ (1 - σ) in one pass, from the output σ
_tanh_backward = torch.ops.aten.tanh_backward  # grad ∘ (1 - tanh²)


def _stack_padded(steps: list[torch.Tensor], batch: int, dim: int = 0) -> torch.Tensor:
    """[(D, n_t, ·)] with n_t ≤ batch -> stacked along `dim`, rows past each n_t zero."""
    if steps[-1].shape[1] == batch:
        return torch.stack(steps, dim)
    return torch.stack([torch.nn.functional.pad(step, (0, 0, 0, batch - step.shape[1])) for step in steps], dim)


def lstm_steps(xs: list[torch.Tensor], states: list[tuple[torch.Tensor, torch.Tensor]], weights_ih, weights_hh,
               biases, lengths: torch.Tensor | None = None):
    """Runs one LSTM per entry (e.g. a Bidirectional's two directions, each given its own input
    already reversed) in lockstep: xs [(B, T, in)], states [(h0, c0) each (B, h)], weights as the
    LSTM layer holds them (gates i, f, c̃, o; one bias) -> (outputs [(B, T, h)], [(h_n, c_n)]).
    With right-padded `lengths` (B,), each sample runs only its own steps; its outputs past them
    are its last state (the caller masks them), its final state the one after its last step."""
    batch, time = xs[0].shape[:2]
    hidden = weights_hh[0].shape[1]
    scale = doubled_candidate(hidden, xs[0].device)
    order = None
    if lengths is not None and int(lengths.min()) < time:
        order = torch.argsort(lengths.cpu(), descending=True, stable=True).to(xs[0].device)
        xs = [x.index_select(0, order) for x in xs]
        states = [(h.index_select(0, order), c.index_select(0, order)) for h, c in states]
        sorted_lengths = lengths.cpu()[order.cpu()]
        steps = torch.arange(1, time + 1)
        running = (sorted_lengths[None, :] >= steps[:, None]).sum(1).tolist()
    else:
        running = [batch] * time
    input_t = torch.stack([w.t() for w in weights_ih]) * scale
    # time-major inputs, so that each step's slice of x_gates is one contiguous block per direction
    inputs = torch.stack([x.transpose(0, 1) for x in xs]).flatten(1, 2)  # (D, T·B, in)
    x_gates = torch.baddbmm(torch.stack(biases)[:, None] * scale, inputs, input_t)
    outputs, h_n, c_n = _Steps.apply(x_gates.view(len(xs), time, batch, 4 * hidden),
                                     torch.stack([h for h, _ in states]), torch.stack([c for _, c in states]),
                                     torch.stack([w.t() for w in weights_hh]) * scale, running)
    outputs = outputs.permute(1, 2, 0, 3)  # (D, B, T, h)
    if order is not None:
        restore = torch.argsort(order)
        outputs, h_n, c_n = outputs.index_select(1, restore), h_n.index_select(1, restore), c_n.index_select(1, restore)
    return list(outputs.unbind(0)), list(zip(h_n.unbind(0), c_n.unbind(0)))
