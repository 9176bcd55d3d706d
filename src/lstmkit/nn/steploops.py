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
MAX_UNITS = 128  # past this a step's product is large enough for BLAS on all threads to win


def chosen() -> str:
    """Which loops LSTMKIT_STEP_LOOPS asks for: "compiled" (the default) or "python"."""
    value = os.environ.get("LSTMKIT_STEP_LOOPS", "").strip().lower() or "compiled"
    if value not in CHOICES:
        raise ValueError(f"LSTMKIT_STEP_LOOPS must be one of {', '.join(CHOICES)}, got {value!r}")
    return value


def available() -> bool:
    """Whether this install has the compiled loops."""
    return _steploops is not None


def runs(x: torch.Tensor, units: int) -> bool:
    """Whether the compiled loops take a layer of `units` on input `x`."""
    return (_steploops is not None and x.device.type == "cpu" and x.dtype == torch.float32
            and units <= MAX_UNITS and chosen() == "compiled")


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
