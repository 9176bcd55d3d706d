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
    # End at once, output flushed: in the interpreter's teardown a Ctrl-C or a thread of torch's
    # killed finished commands (docs/RELIABILITY.md). Every file is written and closed by now.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):  # a reader that stopped early wants no more
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
