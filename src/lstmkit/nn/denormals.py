"""Flushing denormal floats to zero while training on a CPU.

Back-propagating through hundreds of LSTM steps multiplies gradients by forget gates < 1 again and
again; they shrink into the denormal range (below ~1.2e-38 in float32), where x86 arithmetic is
tens of times slower. On the lecture's IMDB LSTM this makes PyTorch's CPU training ~5x slower
(docs/RESULTS.md). TensorFlow flushes denormals by default; PyTorch does not.
"""

from __future__ import annotations

import contextlib

import torch


def denormals_flushed() -> bool:
    """Whether this thread currently flushes denormals to zero."""
    return bool((torch.tensor([1e-40]) * 1.0 == 0).item())  # 1e-40 is a float32 denormal


@contextlib.contextmanager
def flush_denormals(enabled: bool = True):
    """Within the block, denormal results (and inputs) count as zero on this thread's CPU ops;
    the previous setting comes back afterwards. Changes results by less than 1e-38."""
    before = denormals_flushed()
    torch.set_flush_denormal(enabled)
    try:
        yield
    finally:
        torch.set_flush_denormal(before)
