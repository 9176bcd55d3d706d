"""Data-parallel training over several processes, on one machine or several, started by torchrun.

Every process holds the whole model and makes the same shuffled batches; each takes its slice of
every batch, the slices' gradients are summed across the processes, and all take the same step.
So N processes train as one process with the same --batch-size would (up to the order of float
sums; dropout draws its own noise in each process), only on N times the cores. Process 0 writes
the run directory and prints; the others stay quiet. Outside torchrun (no WORLD_SIZE above 1 in
the environment) every function here is a no-op.

    torchrun --standalone --nproc-per-node 2 -m lstmkit sentiment train ...      # one machine
    torchrun --nnodes 2 --node-rank R --master-addr HOST --master-port 29500 \\
             --nproc-per-node 1 -m lstmkit sentiment train ...                   # two machines
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal

import torch
import torch.distributed as dist

from . import interrupts
from .device import resolve_device


def world() -> tuple[int, int]:
    """(this process's rank, number of processes); (0, 1) when not distributed."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main() -> bool:
    return world()[0] == 0


def launched_with_others() -> bool:
    """Whether torchrun (or --processes) started this process as one of several (WORLD_SIZE above 1)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def start(device_name: str) -> torch.device:
    """resolve_device(), and joins the process group when torchrun started this process (gloo
    on CPUs, NCCL on GPUs, one GPU per process: cuda:LOCAL_RANK)."""
    device = resolve_device(device_name)
    if not launched_with_others():
        return device
    if device.type == "cuda":
        local_rank, gpus = int(os.environ.get("LOCAL_RANK", "0")), torch.cuda.device_count()
        if local_rank >= gpus:
            raise ValueError(f"`device` cuda: process {local_rank} of this machine needs GPU {local_rank} (one GPU per "
                             f"process) and the machine has {gpus}; start at most {gpus} processes per machine")
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return device


def finish() -> None:
    """Leaves the process group, if this process joined one."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def share_from_main(model: torch.nn.Module) -> None:
    """Copies process 0's parameters and buffers into every process's model."""
    if world()[1] > 1:
        for tensor in model.state_dict().values():
            dist.broadcast(tensor, src=0)


def from_main(value):
    """Process 0's `value` (any picklable object), in every process."""
    if world()[1] <= 1:
        return value
    holder = [value]
    dist.broadcast_object_list(holder, src=0)
    return holder[0]


def from_all(value) -> list:
    """Every process's `value` (any picklable object), in rank order, in every process."""
    size = world()[1]
    if size == 1:
        return [value]
    values = [None] * size
    dist.all_gather_object(values, value)
    return values


@contextlib.contextmanager
def all_cores():
    """While process 0 works alone (validating, testing) and the others on this machine wait for
    it, it takes their cores too."""
    share = int(os.environ.get("LOCAL_WORLD_SIZE", "1")) if world()[1] > 1 else 1
    threads = torch.get_num_threads()
    torch.set_num_threads(threads * share)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def my_slice(batch):
    """This process's share of a batch (a tuple of tensors, batch first, or None), or None when
    the batch has fewer samples than there are processes."""
    rank, size = world()
    if size == 1:
        return batch
    count = next(len(part) for part in batch if part is not None)
    start, stop = rank * count // size, (rank + 1) * count // size
    if start == stop:
        return None
    return tuple(part[start:stop] if part is not None else None for part in batch)


def sum_gradients(model: torch.nn.Module, totals: list[float]) -> list[float]:
    """Sums every trainable parameter's gradient across the processes, in place (a parameter this
    process left without one counts as zeros), and `totals` (numbers to add up) with them, in one
    message; returns the summed totals. A signal received by any process is shared in the same
    message: afterwards every process has it noted (see interrupts.py)."""
    parameters = [p for p in model.parameters() if p.requires_grad]
    if world()[1] == 1:
        return totals
    device = parameters[0].device
    flat = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in parameters]
                     + [torch.tensor([*totals, float(interrupts.received() is not None)], dtype=parameters[0].dtype,
                                     device=device)])
    dist.all_reduce(flat)
    if flat[-1] > 0:
        interrupts.note(signal.SIGINT)  # a no-op where this process received one of its own
    offset = 0
    for p in parameters:
        p.grad = flat[offset: offset + p.numel()].view_as(p).clone()
        offset += p.numel()
    return flat[offset:-1].tolist()


def share_signals() -> None:
    """A collective: afterwards every process has noted a signal when any of them received one."""
    for signum in from_all(interrupts.received()):
        if signum is not None:
            interrupts.note(signum)


def seed_for_epoch(epoch: int, generator: torch.Generator | None) -> None:
    """Gives each process its own dropout noise for the epoch, derived from the shuffling state
    that all of them share, so the same run resumed draws the same noise."""
    rank, size = world()
    if size == 1:
        return
    state = generator.get_state().numpy().tobytes() if generator is not None else b""
    digest = hashlib.sha256(state + f"{epoch}:{rank}".encode()).digest()
    torch.manual_seed(int.from_bytes(digest[:8], "little") & (2**63 - 1))
