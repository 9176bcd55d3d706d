"""`train --processes N`: the same command in N processes on this machine, training together.

What torchrun does for one machine (distributed.py explains the training), without its reports:
each worker gets RANK / WORLD_SIZE / MASTER_PORT and an even share of the cores; worker 0 speaks,
and the others' error output is shown when they fail, unless it is the bad-input error worker 0
has already shown. If one worker fails, the others are stopped, and the exit code is the
failure's. The workers run in process groups of their own: a terminal's Ctrl-C reaches this
process alone, which passes every SIGINT or SIGTERM it gets on to each worker exactly once, so they
all stop together at a step end, keeping the last completed epoch (a second one stops them at once).
"""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

from . import interrupts


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop(workers: list[subprocess.Popen]) -> int:
    """Passes each signal this process receives on to the running workers, until they have all
    ended -> the exit code of the first signal."""
    passed = 0
    while any(worker.poll() is None for worker in workers):
        for _ in range(passed, interrupts.count()):
            for worker in workers:
                if worker.poll() is None:
                    worker.send_signal(interrupts.received())
        passed = interrupts.count()
        time.sleep(0.1)
    return interrupts.exit_code()


def _as_worker(launcher: int) -> None:
    """In a worker before it starts: a process group of its own (see above) and, on Linux, SIGTERM
    when the launcher dies, so a killed launcher leaves no worker training on."""
    os.setpgid(0, 0)
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG
        if os.getppid() != launcher:  # it died before prctl took effect
            os._exit(143)


def run_processes(count: int, argv: list[str]) -> int:
    """Runs `python -m lstmkit *argv` in `count` processes and waits for them -> exit code."""
    port, threads = free_port(), max(1, (os.cpu_count() or 1) // count)
    workers, logs = [], []
    for rank in range(count):
        env = {**os.environ, "RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(count),
               "LOCAL_WORLD_SIZE": str(count), "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
        env.setdefault("OMP_NUM_THREADS", str(threads))  # N processes x all cores each would thrash
        log = tempfile.TemporaryFile() if rank else None
        logs.append(log)
        workers.append(subprocess.Popen([sys.executable, "-m", "lstmkit", *argv], env=env, stderr=log,
                                        preexec_fn=functools.partial(_as_worker, os.getpid())))
    failed = None  # the first worker seen failing
    try:
        while any(worker.poll() is None for worker in workers):
            if failed is None:
                failed = next((rank for rank, worker in enumerate(workers) if worker.returncode), None)
            if failed is not None and workers[failed].returncode not in (130, 143):  # the others would wait forever
                # (an interrupted worker shares its signal with the others at the next step: they stop too)
                for worker in workers:
                    if worker.poll() is None:
                        worker.terminate()
            time.sleep(0.2)
    except KeyboardInterrupt:  # worker 0 says what was saved
        return _stop(workers)
    codes = [worker.returncode for worker in workers]
    if failed is None:
        failed = next((rank for rank, code in enumerate(codes) if code), None)
    if failed is None:
        return 0
    if codes[0] not in (2, 130, 143):  # bad input or a signal, which every worker meets alike and worker 0 has told
        for rank, code in enumerate(codes[1:], start=1):
            if code and code not in (-signal.SIGTERM, 143):  # SIGTERM: stopped here, after another worker failed
                logs[rank].seek(0)
                sys.stderr.write(f"(process {rank}) " + logs[rank].read().decode(errors="replace"))
    return codes[failed]
