"""`train --processes N`: the same command in N processes on this machine, training together.

What torchrun does for one machine (distributed.py explains the training), without its reports:
each worker gets RANK / WORLD_SIZE / MASTER_PORT and an even share of the cores; worker 0 speaks,
and the others' error output is shown when they fail, unless it is the bad-input error worker 0
has already shown. If one worker fails, the others are stopped, and the exit code is the
failure's; a Ctrl-C stops them all, keeping the last completed epoch.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop(workers: list[subprocess.Popen]) -> None:
    """After a Ctrl-C: a terminal sent it to every worker too; a `kill -INT` to this process alone
    did not, so it is passed on to those still running after a moment."""
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and any(worker.poll() is None for worker in workers):
        time.sleep(0.1)
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGINT)
    for worker in workers:
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


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
        workers.append(subprocess.Popen([sys.executable, "-m", "lstmkit", *argv], env=env, stderr=log))
    failed = None  # the first worker seen failing
    try:
        while any(worker.poll() is None for worker in workers):
            if failed is None:
                failed = next((rank for rank, worker in enumerate(workers) if worker.returncode), None)
            if failed is not None:  # the others would wait for it forever
                for worker in workers:
                    if worker.poll() is None:
                        worker.terminate()
            time.sleep(0.2)
    except KeyboardInterrupt:  # worker 0 says what was saved
        _stop(workers)
        return 130
    codes = [worker.returncode for worker in workers]
    if failed is None:
        failed = next((rank for rank, code in enumerate(codes) if code), None)
    if failed is None:
        return 0
    if codes[0] != 2:  # exit code 2 is bad input, which every worker meets alike and worker 0 has shown
        for rank, code in enumerate(codes[1:], start=1):
            if code and code != -signal.SIGTERM:  # SIGTERM: stopped here, after another worker failed
                logs[rank].seek(0)
                sys.stderr.write(f"(process {rank}) " + logs[rank].read().decode(errors="replace"))
    return codes[failed]
