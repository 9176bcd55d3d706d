"""The `lstmkit` command and `python -m lstmkit`."""

import contextlib
import os
import sys
from typing import NoReturn

from .training import interrupts


def run() -> NoReturn:
    """cli.main() on the command line, then exit with its code."""
    interrupts.install()  # before torch loads: a Ctrl-C meanwhile stops the command without a traceback
    from .cli import main

    code = main()
    # Then end at once, output flushed, with no interpreter teardown: during it Python has put the
    # default signal handlers back, so a Ctrl-C there killed a finished command (exit -2 after its
    # message; 10 of 16 Ctrl-Cs sent 2.45-2.75 s after a fast command started), and it now and then
    # aborted a finished training process of several (SIGABRT from a thread of torch's, ~1 run in
    # 10 under torchrun). Every file is written and closed by then; nothing is left to tear down.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):  # a reader that stopped early wants no more
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
