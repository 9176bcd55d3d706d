"""What every recurrent layer shares: argument and shape checks, Keras-style input dropout,
per-sample lengths, go_backwards, and the return_sequences / return_state options.

A subclass (LSTM, GRU, SimpleRNN) supplies its weights and two ways to run them:
`cell` (one time step, the readable reference path) and `_run_fused` (PyTorch's fused kernel).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .lanes import lane_count, side_by_side
from .memory import keep_freed_memory

IMPLEMENTATIONS = ("fused", "reference")


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def reverse_padded(x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    """Reverse each sequence of `x` (batch, time, ...) within its own length; padding stays at the end.

    Applying it twice gives back `x`.
    """
    if lengths is None:
        return x.flip(1)
    time = x.shape[1]
    steps = torch.arange(time, device=x.device)
    last = (lengths.to(x.device) - 1)[:, None]
    index = torch.where(steps[None, :] <= last, last - steps[None, :], steps[None, :])  # (batch, time)
    index = index.view(*index.shape, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(1, index)


LANE_BATCH = 32  # the most samples a slice or part gets in training: slices of 32 measured faster than of 64
# Larger states keep one call on all threads: their matrix products use them well. At 256 units a
# training batch of 128 in slices of 32 still runs faster (the char seq2seq: 1.18x, in-process A/B
# on the 2-core EPYC, 2026-12-05).
LANE_MAX_HIDDEN = 256
LANE_SPLIT_HIDDEN = 64  # up to this state size a batch is cut to give every lane work
# One-hot ids skip the input's product, and the compiled loop on them in parts beats one oneDNN call
# on all threads up to 256 units, training and inference (the char LSTM(128), docs/RESULTS.md "One-hot
# ids"; the char seq2seq LSTM(256) at batch 32, in-process A/B on a 2-core AVX-512 Xeon, 2026-12-06:
# training 1.24-1.25x PyTorch in two parts, 0.98-1.00x as one oneDNN call; inference 1.29x in parts).
LANE_SPLIT_HIDDEN_IDS = 256  # the largest state on one-hot ids whose batch is cut


def batch_slices(layer, batch: int, lanes: int, calls: int, training: bool, ids: bool = False) -> list[tuple[int, int]]:
    """Where run_recurrent cuts `layer`'s batch: [(start, end)] (docs/RESULTS.md, "Lanes"). A forward
    without gradients costs no more per sample on large batches: it is cut only to fill the lanes."""
    if lanes < 2 or layer.hidden_size > LANE_MAX_HIDDEN:
        return [(0, batch)]
    pieces = math.ceil(batch / LANE_BATCH) if training else 1
    if layer.hidden_size <= (LANE_SPLIT_HIDDEN_IDS if ids else LANE_SPLIT_HIDDEN):
        pieces = max(pieces, math.ceil(lanes / calls))
    size = math.ceil(batch / min(batch, pieces))
    return [(start, min(batch, start + size)) for start in range(0, batch, size)]


def run_recurrent(calls: list) -> list:
    """calls [(layer, x, state tuple, lengths or None, need_state, need_outputs)] -> [(outputs (batch,
    time, hidden), or None without need_outputs, final state tuple)], each as its layer's path gives
    it: only the real steps run, backwards for go_backwards, zero outputs at padding. The fused kernel
    calls of all the calls, their batches cut as batch_slices says, run side by side in lanes
    (lanes.py)."""
    keep_freed_memory()
    lanes = lane_count(calls[0][1].device) if all(layer.lanes for layer, *_ in calls) else 1
    jobs, plans = [], []
    for layer, x, state, lengths, need_state, _ in calls:
        time = x.shape[1]
        if lengths is not None:
            x = x[:, : int(lengths.max())]  # the batch runs only to its longest sample
        if layer.go_backwards:
            x = reverse_padded(x, lengths)
        weights = layer._weights()
        if layer.implementation == "reference":
            plans.append((layer, lengths, time, layer._run_reference(x, state, lengths, weights), None))
            continue
        slices = batch_slices(layer, x.shape[0], lanes, len(calls), torch.is_grad_enabled(),
                              ids=not x.is_floating_point())
        parts = 1
        if len(slices) > 1 and layer._runs_parts(x, state, lengths, need_state):
            parts, slices = len(slices), [(0, x.shape[0])]
        plans.append((layer, lengths, time, None, slice(len(jobs), len(jobs) + len(slices))))
        for start, end in slices:
            def kernel(x, *tensors, layer=layer, need_state=need_state, parts=parts,
                       lengths=None if lengths is None else lengths[start:end]):
                state, weights = tensors[: len(layer.state_names)], tensors[len(layer.state_names):]
                output, final = layer._run_fused(x, state, lengths, need_state, weights, parts)
                return (output, *final)
            jobs.append((kernel, [x[start:end], *(s[start:end] for s in state), *weights]))
    done = side_by_side(jobs, lanes) if jobs else []
    results = []
    for (layer, lengths, time, ran, its_jobs), (*_, need_outputs) in zip(plans, calls):
        if ran is None:  # join the batch slices of its jobs (the outputs only where wanted: megabytes)
            joined = [torch.cat(parts) if len(parts) > 1 and (i or need_outputs) else parts[0]
                      for i, parts in enumerate(zip(*done[its_jobs]))]
            ran = joined[0], tuple(joined[1:])
        output, final = ran
        if not need_outputs:
            results.append((None, final))
            continue
        if lengths is not None:
            output = output * time_mask(lengths, output.shape[1], output.device)[..., None]
        if layer.go_backwards:
            output = reverse_padded(output, lengths)
        if output.shape[1] < time:
            output = nn.functional.pad(output, (0, 0, 0, time - output.shape[1]))
        results.append((output, final))
    return results


def final_state_gradient(state: torch.Tensor, grad_outputs, grad_final) -> torch.Tensor:
    """dL/d(a final state (batch, hidden)) as a fresh tensor a backward loop may overwrite: the
    gradient of the outputs' last step (batch, time, hidden) plus that of the state itself (either
    may be None: nothing reached it)."""
    carried = torch.zeros_like(state)
    if grad_outputs is not None:
        carried += grad_outputs[:, -1]
    if grad_final is not None:
        carried += grad_final
    return carried


def time_major_inputs(x: torch.Tensor, weight_ih: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """x (batch, time, in) -> x_t·W_ihᵀ + b (time, batch, gates·hidden), contiguous, as one matrix
    product: a product over the transposed view runs as one small product per step."""
    batch, time = x.shape[:2]
    return torch.addmm(bias, x.transpose(0, 1).reshape(time * batch, -1), weight_ih.t()).view(time, batch, -1)


def loop_gradients(x, h0, weight_ih, weight_hh, outputs, grad_pre, time_dim: int, need_x: bool, need_h0: bool):
    """What a fused loop's backward gives after it has dL/d(pre-activations) of every step: the
    gradients of x (or None), h0 (or None), W_ih, W_hh and the bias. grad_pre (…, gates·hidden) and
    outputs (…, hidden) run along `time_dim` (0: time-major, 1: batch-major); x is batch-major.
    grad_pre reaches the input through W_ih, h0 through W_hh, and the weights through the step's
    input and the state before it: h0 for the first step, the outputs shifted by one after it.
    One-hot ids x (batch, time) get no gradient; W_ih's sums their steps' rows of grad_pre."""
    if time_dim == 0:
        x = x.transpose(0, 1)
    steps, width = grad_pre.shape[time_dim], grad_pre.shape[-1]
    first = grad_pre.select(time_dim, 0)
    flat = grad_pre.reshape(-1, width)  # (batch·time, gates·hidden)
    grad_x = None
    if need_x:
        grad_x = torch.matmul(grad_pre, weight_ih)
        grad_x = grad_x.transpose(0, 1) if time_dim == 0 else grad_x
    grad_h0 = first @ weight_hh if need_h0 else None
    grad_weight_hh = (grad_pre.narrow(time_dim, 1, steps - 1).reshape(-1, width).t()
                      @ outputs.narrow(time_dim, 0, steps - 1).reshape(-1, outputs.shape[-1])
                      + first.t() @ h0)
    if x.is_floating_point():
        grad_weight_ih = flat.t() @ x.reshape(-1, x.shape[-1])
    else:
        grad_weight_ih = flat.new_zeros(weight_ih.shape[1], width).index_add_(0, x.reshape(-1), flat).t()
    return grad_x, grad_h0, grad_weight_ih, grad_weight_hh, flat.sum(0)


def sequence_dropout(x: torch.Tensor, p: float) -> torch.Tensor:
    """x (batch, [time,] features) with features dropped by one mask per sequence, the same at every
    step (Keras's `dropout`), the kept ones scaled by 1/(1 − p)."""
    keep = x.new_full((x.shape[0], *[1] * (x.dim() - 2), x.shape[-1]), 1 - p)
    return x * torch.bernoulli(keep) / (1 - p)


def time_mask(lengths: torch.Tensor, time: int, device=None) -> torch.Tensor:
    """(batch, time) boolean mask, True at real (non-padding) steps."""
    return torch.arange(time, device=device)[None, :] < lengths.to(device)[:, None]


class Recurrent(nn.Module):
    """Base of the recurrent layers. Inputs are `(batch, time, features)`, or integer ids
    `(batch, time)` in [0, input_size) that stand for one-hot vectors (the lecture's char models):
    an LSTM reads each id's column of W_ih instead of multiplying by a one-hot vector, where its
    compiled loop runs (docs/MODELS.md); elsewhere the ids become one-hot vectors first.

    forward(inputs, initial_state=None, lengths=None) returns
      - `(batch, time, hidden)` if return_sequences else the last output `(batch, hidden)`;
      - with return_state, the pair `(output, state)`, state being the layer's final state.

    `lengths` (batch,) gives each sample's number of real steps; the steps after it are padding
    (pad at the end). Padding is neither read nor run: outputs there are 0, the final state is the
    one after the sample's last real step, and the whole batch runs only to its longest length.
    `go_backwards` reads each sequence from its last real step to its first; unlike Keras, the
    output sequence stays aligned with the input positions (output[t] is the state after reading
    x[t:]), which is what Bidirectional concatenates.
    """

    state_names: tuple[str, ...] = ("h",)
    lanes = False  # whether run_recurrent runs this layer's fused calls side by side (lanes.py)
    reads_ids = False  # whether _run_fused takes one-hot ids as they are (else _prepare makes the vectors)

    def __init__(self, input_size: int, hidden_size: int, *, return_sequences: bool = False,
                 return_state: bool = False, dropout: float = 0.0, go_backwards: bool = False,
                 implementation: str = "fused", weight_drop: float = 0.0):
        super().__init__()
        self.input_size = _positive_int("input_size", input_size)
        self.hidden_size = _positive_int("hidden_size", hidden_size)
        for name, value in (("dropout", dropout), ("weight_drop", weight_drop)):
            if not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
                raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
        if implementation not in IMPLEMENTATIONS:
            raise ValueError(f"implementation must be one of {IMPLEMENTATIONS}, got {implementation!r}")
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.dropout = float(dropout)
        self.weight_drop = float(weight_drop)
        self.go_backwards = bool(go_backwards)
        self.implementation = implementation

    def config(self) -> dict:
        """Constructor arguments: `type(layer)(**layer.config())` builds a layer of the same shape."""
        return dict(input_size=self.input_size, hidden_size=self.hidden_size,
                    return_sequences=self.return_sequences, return_state=self.return_state,
                    dropout=self.dropout, go_backwards=self.go_backwards,
                    implementation=self.implementation, weight_drop=self.weight_drop)

    def extra_repr(self) -> str:
        flags = [name for name in ("return_sequences", "return_state", "go_backwards") if getattr(self, name)]
        extra = "".join(f", {name}={getattr(self, name)}" for name in ("dropout", "weight_drop") if getattr(self, name))
        return f"{self.input_size}, {self.hidden_size}{extra}" + "".join(f", {f}=True" for f in flags)

    def to_torch(self) -> nn.RNNBase:
        """The same layer as its torch.nn module (batch_first=True) with the same weights; where
        lstmkit keeps one bias vector per gate, torch's second one is zero."""
        module = self.torch_type(self.input_size, self.hidden_size, batch_first=True).to(self.weight_ih)
        with torch.no_grad():
            module.weight_ih_l0.copy_(self.weight_ih)
            module.weight_hh_l0.copy_(self.weight_hh)
            bias_ih, bias_hh = self._torch_biases()
            module.bias_ih_l0.copy_(bias_ih)
            module.bias_hh_l0.copy_(bias_hh)
        return module

    # --- to be supplied by a subclass -------------------------------------------------------
    torch_type: type[nn.RNNBase]  # the torch.nn module with the same equations

    def _torch_biases(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(b_ih, b_hh) as PyTorch's kernels take them: one bias and a zero."""
        return self.bias, torch.zeros_like(self.bias)

    def cell(self, x_t: torch.Tensor, state: tuple[torch.Tensor, ...], weights=None) -> tuple[torch.Tensor, ...]:
        """One step: x_t (batch, input_size), state tuple of (batch, hidden) -> the new state tuple.
        `weights` as _weights gives them (default: the layer's own, no weight drop)."""
        raise NotImplementedError

    def _own_weights(self) -> tuple[torch.Tensor, ...]:
        """The parameters a step computes with, W_hh second."""
        return self.weight_ih, self.weight_hh, self.bias

    def _weights(self) -> tuple[torch.Tensor, ...]:
        """The tensors a call computes with (given to _run_fused, so that lanes can route their
        gradients). Training with weight_drop, W_hh has a DropConnect mask drawn once per call: every
        step of every sequence in the batch drops the same recurrent weights (AWD-LSTM's weight drop)."""
        weights = self._own_weights()
        if self.training and self.weight_drop > 0:
            weights = (weights[0], nn.functional.dropout(weights[1], self.weight_drop), *weights[2:])
        return weights

    def _run_fused(self, x, state, lengths, need_state, weights, parts=1):
        """All steps at once with `weights` (as _weights gives them) -> (outputs (batch, time, hidden),
        final state tuple). `parts` > 1 only where _runs_parts said yes: the batch's row ranges the
        call runs side by side itself."""
        raise NotImplementedError

    def _runs_parts(self, x, state, lengths, need_state) -> bool:
        """Whether _run_fused runs the parts of this call's batch side by side itself, with no Python
        between them (run_recurrent then hands it the batch whole, instead of slices in lanes)."""
        return False

    # --- shared machinery ----------------------------------------------------------------
    def forward(self, inputs: torch.Tensor, initial_state=None, lengths=None):
        x, state, lengths = self._prepare(inputs, initial_state, lengths)
        output, final = self._run(x, state, lengths, self.return_state, self.return_sequences)
        result = output if self.return_sequences else final[0]
        return (result, self._public_state(final)) if self.return_state else result

    def outputs_and_state(self, inputs: torch.Tensor, initial_state=None, lengths=None):
        """-> (every output (batch, time, hidden), final state), whatever return_sequences and
        return_state say (for callers that need both, such as Bidirectional and samplers)."""
        x, state, lengths = self._prepare(inputs, initial_state, lengths)
        output, final = self._run(x, state, lengths, need_state=True, need_outputs=True)
        return output, self._public_state(final)

    def reference(self, inputs: torch.Tensor, initial_state=None, lengths=None):
        """forward() through the step-by-step reference path, whatever `implementation` says."""
        saved, self.implementation = self.implementation, "reference"
        try:
            return self.forward(inputs, initial_state, lengths)
        finally:
            self.implementation = saved

    def _prepare(self, inputs, initial_state, lengths):
        """Checks shapes, applies input dropout; -> (x, state tuple, lengths or None). One-hot ids
        stay ids where _run_fused reads them (no dropout to apply)."""
        self._check_input(inputs)
        batch = inputs.shape[0]
        lengths = self._check_lengths(lengths, batch, inputs.shape[1], inputs.device)
        dropping = self.training and self.dropout > 0
        if not inputs.is_floating_point() and (dropping or self.implementation == "reference"
                                                or not self.reads_ids):
            inputs = self.one_hot(inputs)
        state = self._initial_state(initial_state, batch, inputs)
        if dropping:
            inputs = sequence_dropout(inputs, self.dropout)
        return inputs, state, lengths

    def one_hot(self, ids: torch.Tensor) -> torch.Tensor:
        """ids (batch, time) -> one-hot vectors (batch, time, input_size) in the weights' dtype."""
        return nn.functional.one_hot(ids, self.input_size).to(self.weight_ih.dtype)

    def _run(self, x, state, lengths, need_state, need_outputs):
        """Runs the chosen path over the real steps -> (outputs (batch, time, hidden) or None without
        need_outputs, final state)."""
        return run_recurrent([(self, x, state, lengths, need_state, need_outputs)])[0]

    def _run_reference(self, x, state, lengths, weights):
        outputs = []
        for t in range(x.shape[1]):
            new_state = self.cell(x[:, t], state, weights)
            if lengths is not None:  # a finished sample keeps its state
                running = (t < lengths)[:, None]
                new_state = tuple(torch.where(running, new, old) for new, old in zip(new_state, state))
            state = new_state
            outputs.append(state[0])
        return torch.stack(outputs, 1), state

    def _public_state(self, state: tuple):
        return state if len(self.state_names) > 1 else state[0]

    def _check_input(self, inputs):
        expected = f"(batch, time, {self.input_size})"
        name = type(self).__name__
        if not isinstance(inputs, torch.Tensor):
            raise ValueError(f"{name} expects a tensor of shape {expected}, got {type(inputs).__name__}")
        if inputs.dim() == 2 and not inputs.is_floating_point() and inputs.dtype != torch.bool:
            self._check_ids(inputs)
            return
        if inputs.dim() != 3:
            raise ValueError(f"{name} expects a 3-D input of shape {expected}, "
                             f"got {inputs.dim()}-D shape {tuple(inputs.shape)}")
        if inputs.shape[2] != self.input_size:
            raise ValueError(f"{name} expects input of shape {expected}, got {tuple(inputs.shape)}")
        if inputs.shape[1] == 0 or inputs.shape[0] == 0:
            raise ValueError(f"{name} expects at least one sample and one time step, got {tuple(inputs.shape)}")
        if not inputs.is_floating_point():
            raise ValueError(f"{name} expects a floating-point input, got {inputs.dtype} "
                             f"(one-hot ids come as (batch, time); other token ids go through an Embedding first)")

    def _check_ids(self, ids):
        name = type(self).__name__
        if ids.shape[0] == 0 or ids.shape[1] == 0:
            raise ValueError(f"{name} expects at least one sample and one time step, got {tuple(ids.shape)}")
        low, high = int(ids.min()), int(ids.max())
        if low < 0 or high >= self.input_size:
            raise ValueError(f"{name} reads 2-D integer input as one-hot ids in [0, {self.input_size}) "
                             f"(its input_size), got ids {low}..{high}")

    def _check_lengths(self, lengths, batch, time, device):
        if lengths is None:
            return None
        lengths = torch.as_tensor(lengths, device=device)
        if lengths.shape != (batch,) or lengths.is_floating_point():
            raise ValueError(f"lengths must be integers of shape ({batch},), got shape {tuple(lengths.shape)} "
                             f"of {lengths.dtype}")
        if bool((lengths < 1).any()) or bool((lengths > time).any()):
            raise ValueError(f"lengths must lie in [1, {time}] (the input's time steps), got "
                             f"{lengths.min().item()}..{lengths.max().item()}")
        return lengths

    def _initial_state(self, initial_state, batch, inputs) -> tuple[torch.Tensor, ...]:
        shape = (batch, self.hidden_size)
        if initial_state is None:
            zeros = (inputs if inputs.is_floating_point() else self.weight_ih).new_zeros(shape)
            return tuple(zeros for _ in self.state_names)
        parts = (initial_state,) if isinstance(initial_state, torch.Tensor) else tuple(initial_state)
        names = ", ".join(self.state_names)
        if len(parts) != len(self.state_names):
            raise ValueError(f"{type(self).__name__} initial_state must be ({names}), each of shape {shape}; "
                             f"got {len(parts)} tensor(s)")
        for name, part in zip(self.state_names, parts):
            if not isinstance(part, torch.Tensor) or tuple(part.shape) != shape:
                got = tuple(part.shape) if isinstance(part, torch.Tensor) else type(part).__name__
                raise ValueError(f"{type(self).__name__} initial state {name} must have shape {shape} "
                                 f"(batch, hidden_size), got {got}")
        return parts

    @staticmethod
    def _last_real(output: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(batch, time, hidden) -> (batch, hidden): each sample's output at its last real step."""
        return output[torch.arange(output.shape[0], device=output.device), lengths.to(output.device) - 1]
