"""The compiled step loops (steploops.c, built when lstmkit is installed) and when they run.

They run float32 tensors on the CPU. Where the install could not compile them (no C compiler), or
with LSTMKIT_STEP_LOOPS=python, the layers keep their eager PyTorch loops, which compute the same
values within float32 rounding.
"""

from __future__ import annotations

import importlib
import os

import torch

try:
    _steploops = importlib.import_module(f"{__package__}._steploops")
except ImportError:  # built optionally: an install without a C compiler runs the eager loops
    _steploops = None

CHOICES = ("compiled", "python")
# The most units a layer's compiled loop takes; past them a step's product is large enough for BLAS
# (SimpleRNN) or oneDNN (LSTM) on all threads to win. In-process A/B on the 2-core EPYC, 2026-12-05:
# SimpleRNN 1.2-1.3x its eager loop at 128 units; LSTM 1.1-1.4x oneDNN at 32 and 64 units, 0.7-1.0x at 128.
# A call on one thread (in a lane, lanes.py) meets oneDNN on one thread too, and the loop keeps up at
# 128 units: the char LSTM(128) trains at batch 128, in four lanes' slices, 1.10x faster with it.
SIMPLERNN_MAX_UNITS = 128
LSTM_MAX_UNITS = 64
LSTM_ONE_THREAD_MAX_UNITS = 128


def chosen() -> str:
    """Which loops LSTMKIT_STEP_LOOPS asks for: "compiled" (the default) or "python"."""
    value = os.environ.get("LSTMKIT_STEP_LOOPS", "").strip().lower() or "compiled"
    if value not in CHOICES:
        raise ValueError(f"LSTMKIT_STEP_LOOPS must be one of {', '.join(CHOICES)}, got {value!r}")
    return value


def available() -> bool:
    """Whether this install has the compiled loops."""
    return _steploops is not None


def runs(x: torch.Tensor, units: int, most_units: int) -> bool:
    """Whether a compiled loop that takes up to `most_units` runs a layer of `units` on input `x`."""
    return (_steploops is not None and x.device.type == "cpu" and x.dtype == torch.float32
            and units <= most_units and not torch.is_autocast_enabled("cpu") and chosen() == "compiled")


def lstm_max_units(one_thread: bool) -> int:
    """The most units an LSTM's compiled loop takes, for a call on one thread or on all of them."""
    return LSTM_ONE_THREAD_MAX_UNITS if one_thread else LSTM_MAX_UNITS


def _address(tensor: torch.Tensor) -> int:
    """Where a tensor's floats start; the loops read them as one contiguous float32 block."""
    if not (tensor.is_contiguous() and tensor.dtype == torch.float32 and tensor.device.type == "cpu"):
        raise ValueError(f"the compiled loops take contiguous float32 CPU tensors, got {tensor.dtype} "
                         f"on {tensor.device}, strides {tensor.stride()}")
    return tensor.data_ptr()


def simplernn_forward(io: torch.Tensor, h0: torch.Tensor, recurrent_t: torch.Tensor) -> None:
    """io (time, batch, units): x_t·W_ihᵀ + b in, h_t out; h0 (batch, units); recurrent_t = W_hhᵀ."""
    time, batch, units = io.shape
    _steploops.simplernn_forward(_address(io), _address(h0), _address(recurrent_t), batch, time, units)


def simplernn_backward(outputs: torch.Tensor, grad_outputs: torch.Tensor | None, carried: torch.Tensor,
                       recurrent: torch.Tensor) -> torch.Tensor:
    """outputs, grad_outputs (time, batch, units) (None: no gradient reached them); carried
    (batch, units) dL/dh at the last step, overwritten; recurrent = W_hh -> dL/da_t (time, batch, units)."""
    time, batch, units = outputs.shape
    grad_pre = torch.empty_like(outputs)
    _steploops.simplernn_backward(_address(outputs), 0 if grad_outputs is None else _address(grad_outputs),
                                  _address(carried), _address(recurrent), _address(grad_pre), batch, time,
                                  units)
    return grad_pre


def lstm_forward(gates: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor, recurrent_t: torch.Tensor):
    """gates (time, batch, 4·units): x_t·W_ihᵀ + b in, the gates' activations (i, f, c̃, o) out;
    h0, c0 (batch, units); recurrent_t = W_hhᵀ (units, 4·units) -> (h_t, c_t), each (time, batch, units)."""
    time, batch, width = gates.shape
    units = width // 4
    outputs, cells = gates.new_empty(time, batch, units), gates.new_empty(time, batch, units)
    _steploops.lstm_forward(_address(gates), _address(h0), _address(c0), _address(recurrent_t),
                            _address(outputs), _address(cells), batch, time, units)
    return outputs, cells


def lstm_backward(gates: torch.Tensor, cells: torch.Tensor, c0: torch.Tensor, grad_outputs: torch.Tensor | None,
                  carried_h: torch.Tensor, carried_c: torch.Tensor, recurrent: torch.Tensor) -> torch.Tensor:
    """gates and cells as lstm_forward left them; grad_outputs (time, batch, units) or None;
    carried_h, carried_c (batch, units) dL/dh and dL/dc at the last step, carried_c dL/dc0 on return;
    recurrent = W_hh (4·units, units) -> dL/d(pre-activations) (time, batch, 4·units)."""
    time, batch, units = cells.shape
    grad_pre = torch.empty_like(gates)
    _steploops.lstm_backward(_address(gates), _address(cells), _address(c0),
                             0 if grad_outputs is None else _address(grad_outputs), _address(carried_h),
                             _address(carried_c), _address(recurrent), _address(grad_pre), batch, time, units)
    return grad_pre
