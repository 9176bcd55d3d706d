"""The compiled step loops (steploops.c, built when lstmkit is installed) and when they run.

They run float32 tensors on the CPU. Where the install could not compile them (no C compiler), or
with LSTMKIT_STEP_LOOPS=python, the layers keep their eager PyTorch loops, which compute the same
values within float32 rounding.
"""

from __future__ import annotations

import ctypes
import importlib
import os

import torch

from .denormals import openmp_runtime

try:
    _steploops = importlib.import_module(f"{__package__}._steploops")
except ImportError:  # built optionally: an install without a C compiler runs the eager loops
    _steploops = None
if _steploops is not None and openmp_runtime() is not None:  # the team a batch's parts run on
    _steploops.set_team(ctypes.cast(openmp_runtime().GOMP_parallel, ctypes.c_void_p).value)

CHOICES = ("compiled", "python")
# The most units a layer's compiled loop takes; past them a step's product is large enough for BLAS
# (SimpleRNN) or oneDNN (LSTM) on all threads to win. In-process A/B on the 2-core EPYC, 2026-12-05:
# SimpleRNN 1.2-1.3x its eager loop at 128 units; LSTM 1.1-1.4x oneDNN at 32 and 64 units, 0.7-1.0x at 128.
# A call on one thread per part of its batch (or in a lane, lanes.py) meets oneDNN on one thread too.
# With the product in panels the loop keeps up to 256 units there: on a 2-core AVX-512 Xeon
# (2026-12-06) it runs an LSTM(256)'s 60 steps at batch 16 in 5.2 ms against oneDNN's 7.1 ms on one
# thread, and the char seq2seq trains at batch 128, in four parts, 1.56x faster than PyTorch with it.
SIMPLERNN_MAX_UNITS = 128
LSTM_MAX_UNITS = 64
LSTM_ONE_THREAD_MAX_UNITS = 256


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


PRODUCTS = ("avx512", "avx2", "portable")  # the loops' matrix products, fastest first


def product() -> str:
    """The product the loops use: the fastest this CPU runs, unless use_product chose another."""
    return _steploops.product()


def use_product(name: str) -> bool:
    """The loops use product `name` (one of PRODUCTS) from now on -> whether this CPU runs it (if
    not, nothing changes). For tests and benchmarks: the fastest is chosen when lstmkit loads."""
    if name not in PRODUCTS:
        raise ValueError(f"the compiled loops' product is one of {', '.join(PRODUCTS)}, got {name!r}")
    return _steploops.use_product(name)


def _address(tensor: torch.Tensor, dtype: torch.dtype = torch.float32) -> int:
    """Where a tensor's values start; the loops read them as one contiguous block of `dtype`."""
    if not (tensor.is_contiguous() and tensor.dtype == dtype and tensor.device.type == "cpu"):
        raise ValueError(f"the compiled loops take contiguous {dtype} CPU tensors here, got {tensor.dtype} "
                         f"on {tensor.device}, strides {tensor.stride()}")
    return tensor.data_ptr()


def panels(matrix: torch.Tensor) -> torch.Tensor:
    """matrix (inner, cols), any strides (W_hh or its transpose) -> the panels the loops' product reads:
    (⌈cols / width⌉, inner, width) contiguous, the last zero-padded, width = the loops' panel_width()."""
    width = _steploops.panel_width()
    inner, cols = matrix.shape
    if cols % width:
        matrix = torch.nn.functional.pad(matrix, (0, width - cols % width))
    return matrix.detach().unflatten(1, (-1, width)).transpose(0, 1).contiguous()


def simplernn_forward(io: torch.Tensor, h0: torch.Tensor, recurrent_t: torch.Tensor) -> None:
    """io (time, batch, units): x_t·W_ihᵀ + b in, h_t out; h0 (batch, units); recurrent_t = W_hhᵀ."""
    time, batch, units = io.shape
    laid_out = panels(recurrent_t)
    _steploops.simplernn_forward(_address(io), _address(h0), _address(laid_out), batch, time, units)


def simplernn_backward(outputs: torch.Tensor, grad_outputs: torch.Tensor | None, carried: torch.Tensor,
                       recurrent: torch.Tensor) -> torch.Tensor:
    """outputs, grad_outputs (time, batch, units) (None: no gradient reached them); carried
    (batch, units) dL/dh at the last step, overwritten; recurrent = W_hh -> dL/da_t (time, batch, units)."""
    time, batch, units = outputs.shape
    grad_pre, laid_out = torch.empty_like(outputs), panels(recurrent)
    _steploops.simplernn_backward(_address(outputs), 0 if grad_outputs is None else _address(grad_outputs),
                                  _address(carried), _address(laid_out), _address(grad_pre), batch, time,
                                  units)
    return grad_pre


def lstm_forward(inputs: torch.Tensor, weight_ih: torch.Tensor, weight_hh: torch.Tensor, bias: torch.Tensor,
                 h0: torch.Tensor, c0: torch.Tensor, keep: bool = True, parts: int = 1):
    """inputs (batch, time, features), or one-hot ids (batch, time) of `features` kinds; weight_ih
    (4·units, features), weight_hh (4·units, units), bias (4·units,) as the layer holds them; h0, c0
    (batch, units) -> (gates' activations (i, f, c̃, o) (time, batch, 4·units), h_t, c_t (time,
    batch, units)): what lstm_backward reads; without `keep` (no backward follows), (None, h_t,
    c_T (1, batch, units)). `parts`: the batch's rows cut into this many ranges, run side by side on
    the intra-op threads (one thread each, taking the next range when done)."""
    batch, time = inputs.shape[:2]
    units = weight_hh.shape[1]
    gates = h0.new_empty(time if keep else 1, batch, 4 * units)
    outputs, cells = h0.new_empty(time, batch, units), h0.new_empty(time if keep else 2, batch, units)
    recurrent = panels(weight_hh.t())
    if inputs.is_floating_point():
        input_panels = panels(weight_ih.t())
        if inputs.stride(2) != 1:  # the loop reads any layout whose features lie side by side
            inputs = inputs.contiguous()
        source = (0, 0, _address(inputs[:1, :1]), *inputs.stride()[:2], _address(input_panels), _address(bias),
                  inputs.shape[2])
    else:  # each id's row of W_ihᵀ + b, read as its step comes (row-major: a row is one block)
        table, ids = torch.add(weight_ih.detach().t().contiguous(), bias.detach()), inputs.t().contiguous()
        source = (_address(table), _address(ids, torch.int64), 0, 0, 0, 0, 0, 0)
    _steploops.lstm_forward(_address(gates), *source, _address(h0), _address(c0), _address(recurrent),
                            _address(outputs), _address(cells), keep, batch, time, units, parts,
                            torch.get_num_threads())
    if keep:
        return gates, outputs, cells
    return None, outputs, cells[(time - 1) % 2][None]


def lstm_backward(gates: torch.Tensor, cells: torch.Tensor, c0: torch.Tensor, grad_outputs: torch.Tensor | None,
                  carried_h: torch.Tensor, carried_c: torch.Tensor, recurrent: torch.Tensor,
                  parts: int = 1) -> torch.Tensor:
    """gates and cells as lstm_forward left them; grad_outputs (time, batch, units) or None;
    carried_h, carried_c (batch, units) dL/dh and dL/dc at the last step, carried_c dL/dc0 on return;
    recurrent = W_hh (4·units, units) -> dL/d(pre-activations) (time, batch, 4·units). `parts` as
    for lstm_forward."""
    time, batch, units = cells.shape
    grad_pre, laid_out = torch.empty_like(gates), panels(recurrent)
    _steploops.lstm_backward(_address(gates), _address(cells), _address(c0),
                             0 if grad_outputs is None else _address(grad_outputs), _address(carried_h),
                             _address(carried_c), _address(laid_out), _address(grad_pre), batch, time, units,
                             parts, torch.get_num_threads())
    return grad_pre
