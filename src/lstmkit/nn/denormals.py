"""Flushing denormal floats to zero while training on a CPU.

Back-propagating through hundreds of LSTM steps multiplies gradients by forget gates < 1 again and
again; they shrink into the denormal range (below ~1.2e-38 in float32), where x86 arithmetic is
tens of times slower. On the lecture's IMDB LSTM this makes PyTorch's CPU training 4-8x slower
(docs/RESULTS.md). TensorFlow flushes denormals by default; PyTorch does not.

The setting lives in each CPU thread's control register, and `torch.set_flush_denormal` sets only
the calling thread's, while oneDNN and ATen compute on OpenMP worker threads. So the OpenMP
runtime PyTorch loaded is asked to run the setting on every thread of its team (GOMP_parallel,
which libgomp and LLVM's libomp both provide); where no such runtime is found, only the calling
thread is set.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
from pathlib import Path

import torch

TEAM_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


def denormals_flushed() -> bool:
    """Whether this thread currently flushes denormals to zero."""
    return bool((torch.tensor([1e-40]) * 1.0 == 0).item())  # 1e-40 is a float32 denormal


@functools.cache
def openmp_runtime():
    """PyTorch's OpenMP library, or None. Other packages may load their own copy (sentencepiece's
    wheel does), whose threads are not PyTorch's: the one inside torch's folder comes first."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "/lib" in line and "omp" in line.rsplit("/", 1)[-1]}
    except OSError:  # not Linux
        return None
    torch_folder = str(Path(torch.__file__).resolve().parent) + os.sep
    for path in sorted(paths, key=lambda path: (not str(Path(path).resolve()).startswith(torch_folder), path)):
        try:
            library = ctypes.CDLL(path)  # already loaded: the same runtime and thread pool
            library.GOMP_parallel  # noqa: B018 - raises AttributeError where absent
            return library
        except (OSError, AttributeError):
            continue
    return None


def set_flush_denormal_everywhere(enabled: bool) -> None:
    """Sets denormal flushing on the calling thread and on every intra-op (OpenMP) thread."""
    torch.set_flush_denormal(enabled)
    runtime = openmp_runtime()
    if runtime is None or torch.get_num_threads() < 2:
        return
    callback = TEAM_CALLBACK(lambda _data: torch.set_flush_denormal(enabled) and None)
    runtime.GOMP_parallel(callback, None, ctypes.c_uint(torch.get_num_threads()), ctypes.c_uint(0))


@contextlib.contextmanager
def flush_denormals(enabled: bool = True):
    """Within the block, denormal results (and inputs) count as zero in CPU ops on this thread and
    PyTorch's worker threads; the previous setting comes back afterwards. Changes values smaller
    than 1.2e-38 to zero, nothing else."""
    before = denormals_flushed()
    set_flush_denormal_everywhere(enabled)
    try:
        yield
    finally:
        set_flush_denormal_everywhere(before)
