"""The `lstmkit` command and `python -m lstmkit`."""

from typing import NoReturn

from .training import interrupts


def run() -> NoReturn:
    """cli.main() on the command line, then exit with its code."""
    interrupts.install()  # before torch loads: a Ctrl-C meanwhile stops the command without a traceback
    from .cli import main
    from .training.distributed import exit_process

    exit_process(main())


if __name__ == "__main__":
    run()
