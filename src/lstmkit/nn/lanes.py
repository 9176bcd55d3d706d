"""Independent recurrent kernel calls side by side on the CPU's cores ("lanes").

A recurrent layer with a small state is bound by its per-step overhead, not by arithmetic: PyTorch's
fused CPU LSTM at hidden size 32 runs barely faster on 2 threads than on 1 (the threads meet at a
barrier at every one of the 500 steps). So calls that do not depend on each other (the two
directions of a Bidirectional, slices of a batch) run each on one thread of PyTorch's own OpenMP
team, one call per thread at a time, in the forward and in the backward (docs/RESULTS.md, "Lanes").
Inside a team the kernels run on their own thread only (OpenMP does not nest), and no extra threads
compete for the cores: a separate thread pool loses to the team's idle threads, which spin for
milliseconds after each operation.

`side_by_side(jobs)` gives the values and gradients of running the jobs one after another (up to
the order in which a gradient shared by several jobs is summed); the layers call it. A layer whose
compiled loop cuts its own batch (the LSTM's, steploops.c) takes the batch whole instead: its
parts run on the same team from C, without the Python a lane runs under the GIL.
`LSTMKIT_LANES=1` in the environment turns lanes off, `LSTMKIT_LANES=N` caps them at N.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import itertools
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from .denormals import TEAM_CALLBACK, denormals_flushed, openmp_runtime

Job = tuple[Callable[..., tuple[torch.Tensor, ...]], Sequence[torch.Tensor]]


@contextlib.contextmanager
def small_ops_threads(work: int):
    """One intra-op thread while each step's tensors are small (work = rows × units up to 64 × 128):
    waking a second thread for a tiny matrix product costs more than it saves."""
    threads = torch.get_num_threads()
    if work <= 64 * 128 and threads > 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def lane_count(device: torch.device) -> int:
    """How many lanes jobs on `device` get now: the intra-op threads (capped by LSTMKIT_LANES) on a CPU
    whose OpenMP runtime lstmkit can reach; 1 elsewhere, inside a lane, or with LSTMKIT_LANES=1."""
    runtime = openmp_runtime()
    if device.type != "cpu" or runtime is None or runtime.omp_in_parallel():
        return 1
    lanes = torch.get_num_threads()
    cap = os.environ.get("LSTMKIT_LANES", "").strip()
    if cap.isdigit() and int(cap) > 0:
        lanes = min(lanes, int(cap))
    return lanes


def on_one_thread() -> bool:
    """Whether a kernel called now runs on one thread: inside a lane, or with one intra-op thread."""
    runtime = openmp_runtime()
    return torch.get_num_threads() == 1 or (runtime is not None and bool(runtime.omp_in_parallel()))


@functools.cache
def _mkl_threads_here():
    """MKL's setter of the calling thread's own thread count (mkl_set_num_threads_local), where
    PyTorch was built with MKL; None elsewhere."""
    try:
        return ctypes.CDLL(str(Path(torch.__file__).parent / "lib" / "libtorch_cpu.so")).MKL_Set_Num_Threads_Local
    except (OSError, AttributeError):
        return None


@contextlib.contextmanager
def _mkl_on_this_thread_only():
    """MKL's products on the calling thread alone. Left to itself (MKL_DYNAMIC), MKL decides at each
    call inside a lane how many threads to use, by how busy the others are, and its sums then
    round differently from run to run (seen on an AVX-512 Xeon: a resumed run drifted from an
    uninterrupted one by 3e-8)."""
    setter = _mkl_threads_here()
    before = setter(1) if setter is not None else None
    try:
        yield
    finally:
        if setter is not None:
            setter(before)


def _in_lanes(lanes: int, jobs: list[Callable[[], object]]) -> list:
    """Runs the argument-less jobs on `lanes` threads of the OpenMP team (the calling thread is one),
    each thread taking the next job when done, with the caller's thread-local settings (grad and
    inference mode, denormal flushing, CPU autocast) -> their results in order. The first exception
    stops the handing out of jobs and is raised here once the running ones are done."""
    grad, inference = torch.is_grad_enabled(), torch.is_inference_mode_enabled()
    flush = denormals_flushed()
    autocast = torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else None
    results, failures, turns = [None] * len(jobs), [], itertools.count()

    def lane(_data):
        torch.set_flush_denormal(flush)
        with contextlib.ExitStack() as stack:
            stack.enter_context(_mkl_on_this_thread_only())
            stack.enter_context(torch.inference_mode() if inference else torch.set_grad_enabled(grad))
            if autocast is not None:
                stack.enter_context(torch.autocast("cpu", autocast))
            for turn in turns:
                if turn >= len(jobs) or failures:
                    return
                try:
                    results[turn] = jobs[turn]()
                except BaseException as failure:  # noqa: BLE001 - raised again in the caller's thread
                    failures.append(failure)

    callback = TEAM_CALLBACK(lane)
    openmp_runtime().GOMP_parallel(callback, None, ctypes.c_uint(lanes), ctypes.c_uint(0))
    if failures:
        raise failures[0]
    return results


def side_by_side(jobs: list[Job], lanes: int) -> list[tuple[torch.Tensor, ...]]:
    """jobs [(function, tensors)] with function(*tensors) -> a tuple of tensors; the jobs must not
    depend on each other nor draw random numbers -> each job's tuple, as if run in turn, gradients
    included (the backward runs side by side too). A tensor shared by several jobs (a weight) gets
    the sum of its gradients, added in the jobs' order. `lanes`: at most this many at once
    (lane_count's answer; 1 runs them in turn on the calling thread)."""
    lanes = min(lanes, len(jobs))
    if lanes < 2:
        return [tuple(function(*tensors)) for function, tensors in jobs]
    unique, slot = [], {}
    for _, tensors in jobs:
        for tensor in tensors:
            if id(tensor) not in slot:
                slot[id(tensor)] = len(unique)
                unique.append(tensor)
    positions = [[slot[id(tensor)] for tensor in tensors] for _, tensors in jobs]
    functions = [function for function, _ in jobs]
    if not (torch.is_grad_enabled() and any(t.requires_grad for t in unique)):
        return _in_lanes(lanes, [lambda f=f, p=p: tuple(f(*(unique[i] for i in p)))
                                 for f, p in zip(functions, positions)])
    counts: list[int] = []  # outputs per job, filled in by the forward
    flat = _SideBySide.apply(functions, positions, lanes, counts, *unique)
    results, start = [], 0
    for count in counts:
        results.append(tuple(flat[start: start + count]))
        start += count
    return results


class _SideBySide(torch.autograd.Function):
    """The jobs' forward in lanes, each building its own graph from detached copies of the inputs;
    the backward asks each graph for its gradients, again in lanes, and sums the shared ones."""

    @staticmethod
    def forward(ctx, functions, positions, lanes, counts, *tensors):
        leaves = [t.detach().requires_grad_(t.requires_grad) for t in tensors]

        def job(function, places):
            with torch.enable_grad():
                return tuple(function(*(leaves[i] for i in places)))

        outputs = _in_lanes(lanes, [lambda f=f, p=p: job(f, p) for f, p in zip(functions, positions)])
        counts.extend(len(out) for out in outputs)
        ctx.graphs, ctx.positions, ctx.lanes, ctx.leaves = outputs, positions, lanes, leaves
        return tuple(o.detach() for out in outputs for o in out)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, *grads):
        if ctx.graphs is None:
            raise RuntimeError("lanes keep no graph after their backward (retain_graph is not supported)")
        wanted = ctx.needs_input_grad[4:]  # per input tensor, after the four non-tensor arguments
        per_job, start = [], 0
        for outputs, places in zip(ctx.graphs, ctx.positions):
            pairs = [(o, g) for o, g in zip(outputs, grads[start: start + len(outputs)]) if o.requires_grad]
            start += len(outputs)
            inputs = sorted({i for i in places if wanted[i]})
            per_job.append((pairs, inputs))

        def job(pairs, inputs):
            if not pairs or not inputs:
                return [None] * len(inputs)
            return torch.autograd.grad([o for o, _ in pairs], [ctx.leaves[i] for i in inputs],
                                       [g for _, g in pairs], allow_unused=True)

        found = _in_lanes(ctx.lanes, [lambda p=p, i=i: job(p, i) for p, i in per_job])
        ctx.graphs = ctx.leaves = None  # the graphs are spent: free their saved tensors now
        total = [None] * len(wanted)
        for (_, inputs), gradients in zip(per_job, found):
            for i, gradient in zip(inputs, gradients):
                if gradient is not None:
                    total[i] = gradient if total[i] is None else total[i] + gradient
        return (None, None, None, None, *total)
